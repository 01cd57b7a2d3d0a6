import { formatPath, validateProduction, type ConfigProblem, type ValidateProductionOptions, type ValidationResult } from '@hie/config';
import { checkEgress, urlTarget } from './egress';
import type { HostPolicy } from './host-policy';
import { resolveInsideRoots } from './paths';

type Path = (string | number)[];

/** A setting that names a folder or file on the host. */
interface PathSetting {
  path: Path;
  value: string;
}

/** A setting that names a host items connect to. */
interface EgressSetting {
  path: Path;
  host: string;
  port: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const problem = (path: Path, code: string, message: string): ConfigProblem => ({ path, pathText: formatPath(path), code, message });
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The host resources each built-in item type's settings name. One table, read by the save-time
 * and start-time checks; the items apply the same guards at run time (see README).
 */
function hostSettings(type: string, s: Record<string, unknown>, at: Path): { paths: PathSetting[]; egress: EgressSetting[]; invalid: ConfigProblem[] } {
  const paths: PathSetting[] = [];
  const egress: EgressSetting[] = [];
  const invalid: ConfigProblem[] = [];
  const folder = (key: string) => {
    const value = text(s[key]);
    if (value) paths.push({ path: [...at, key], value });
  };
  if (type === 'file.in') ['directory', 'archiveDirectory', 'errorDirectory'].forEach(folder);
  if (type === 'file.out') {
    folder('directory');
    // The template's own text may not name another folder: file.out would refuse every message.
    if (typeof s.filename === 'string' && (s.filename.includes('/') || s.filename === '.' || s.filename === '..')) {
      invalid.push(problem([...at, 'filename'], 'path_outside_roots', 'the file name must not contain "/" or be "." or ".." (it would leave the directory)'));
    }
  }
  if ((type === 'hl7.mllp.in' || type === 'hl7.mllp.out') && isRecord(s.tls)) {
    for (const key of ['certFile', 'keyFile', 'caFile']) {
      const value = text(s.tls[key]);
      if (value) paths.push({ path: [...at, 'tls', key], value });
    }
  }
  if (type === 'hl7.mllp.out') {
    // Defaults as in hl7MllpOutSettings: the check runs on raw specs too.
    const port = typeof s.port === 'number' ? s.port : 2575;
    egress.push({ path: [...at, 'host'], host: text(s.host) ?? '127.0.0.1', port });
  }
  if (type === 'http.out' && typeof s.url === 'string') {
    const target = urlTarget(s.url);
    if (target) egress.push({ path: [...at, 'url'], ...target });
    // Not a URL at all: the schema says so.
    else if (URL.canParse(s.url)) invalid.push(problem([...at, 'url'], 'egress_refused', 'only http:// and https:// URLs can be sent to'));
  }
  return { paths, egress, invalid };
}

/**
 * Checks every folder, file and host a production's items name against the host policy:
 * folders and TLS files must lie under `HIE_FILE_ROOTS` after realpath (no `..` or symlink
 * escape), `http.out`/`hl7.mllp.out` targets must pass the egress policy after DNS
 * resolution (a name that does not resolve now is left to the run-time check). Works on raw
 * specs as well as parsed ones, so one pass can report schema and policy problems together.
 * @returns one problem per refused setting, with its path (`items[2].settings.directory`).
 */
export async function checkProductionHostPolicy(spec: unknown, policy: HostPolicy): Promise<ConfigProblem[]> {
  const items = isRecord(spec) && Array.isArray(spec.items) ? spec.items : [];
  const checks = items.flatMap((item: unknown, i) => {
    if (!isRecord(item) || typeof item.type !== 'string' || !isRecord(item.settings)) return [];
    const { paths, egress, invalid } = hostSettings(item.type, item.settings, ['items', i, 'settings']);
    return [
      Promise.resolve(invalid),
      ...paths.map(async (p) => {
        try {
          await resolveInsideRoots(p.value, policy);
          return [];
        } catch (e) {
          return [problem(p.path, 'path_outside_roots', (e as Error).message)];
        }
      }),
      ...egress.map(async (t) => {
        const decision = await checkEgress(t.host, t.port, policy, { lookupTimeoutMs: 3000 });
        return decision.ok ? [] : [problem(t.path, 'egress_refused', decision.reason)];
      }),
    ];
  });
  return (await Promise.all(checks)).flat();
}

/** Options of {@link validateProductionWithPolicy}. */
export interface ValidateWithPolicyOptions extends ValidateProductionOptions {
  policy: HostPolicy;
}

/**
 * `validateProduction` plus {@link checkProductionHostPolicy}: every schema, semantic and host
 * policy problem in one answer. What the manager runs before a save, and the engine and
 * `hie validate` / `hie run` before a start.
 */
export async function validateProductionWithPolicy(spec: unknown, opts: ValidateWithPolicyOptions): Promise<ValidationResult> {
  const result = validateProduction(spec, opts);
  const hostProblems = await checkProductionHostPolicy(result.ok ? result.value : spec, opts.policy);
  if (hostProblems.length === 0) return result;
  return { ok: false, problems: [...(result.ok ? [] : result.problems), ...hostProblems] };
}
