/**
 * GitOps: `hie export` writes a project as readable YAML (one file per item, positions apart,
 * stable key order, so a change shows as a small git diff); `hie apply` saves such a folder (or
 * one production file) through the manager API, with an API token, and optionally deploys it.
 *
 * Layout of an exported folder:
 * ```
 * project.yaml        name, description, production settings, the item order, connections
 * items/<name>.yaml   one item each (type, settings, common settings), no position
 * layout.yaml         each item's position on the designer canvas
 * canvas.yaml         the designer's groups and notes (only when the production has any)
 * ```
 * Group membership is geometric (an item inside a group's box belongs to it), so canvas.yaml
 * names no item: renaming an item in git touches its own file, project.yaml and layout.yaml only.
 * Secret settings are never exported: a reference (`${secret:LAB_TOKEN}`) is written as it is,
 * a stored value as `••• set`, which keeps the stored value when applied to the same project.
 *
 * Lives in bin/ (the composition root) because it is a client of the manager's API
 * (`import type { AppRouter }`) run from the `hie` CLI.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import YAML from 'yaml';
import type { AppRouter } from '@hie/manager';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const GITOPS_HELP: Record<'export' | 'apply', string> = {
  export: `Usage: hie export <project> [--dir <dir>] [--version N] [--url URL]

Writes the project (a name in the token's workspace, or an id) as YAML:
<dir>/project.yaml, <dir>/items/<item>.yaml, <dir>/layout.yaml, <dir>/canvas.yaml (groups and
notes, when there are any; default dir: the project name).
Stable key order, one file per item: diffs stay small. Secrets are written as references
(\${secret:NAME}) or "••• set", never as values.

  --dir DIR      where to write (items/*.yaml there are replaced)
  --version N    a version other than the current one
  --url URL      the HIE server (default: HIE_URL, else http://127.0.0.1:8080)
Authentication: HIE_TOKEN (an API token, made in the portal under Account → API tokens).`,
  apply: `Usage: hie apply -f <dir|file> --project <name> [--deploy] [--environment E] [--url URL]

Saves a folder written by "hie export" (or one production file, JSON or YAML) as the next
version of the project in the token's workspace (created when missing; nothing saved when
unchanged), then with --deploy deploys that version, its \${...} references resolved in
environment E (default: the environment it runs in now).

  -f, --file PATH        the folder or file
  --project NAME         the project (default: the production's name)
  --deploy               deploy the saved version
  --environment E        with --deploy: the environment to resolve variables in
  --comment TEXT         the version's comment (default: "hie apply")
  --url URL              the HIE server (default: HIE_URL, else http://127.0.0.1:8080)
Authentication: HIE_TOKEN (an API token with the analyst role or higher).`,
};

// ── files ─────────────────────────────────────────────────────────────────────────────────────

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` with every object's keys in a stable order: `first` keys in that order, then the rest sorted. */
function ordered(v: Json, first: readonly string[] = []): Json {
  if (Array.isArray(v)) return v.map((x) => ordered(x));
  if (!isObject(v)) return v;
  const keys = Object.keys(v).sort((a, b) => {
    const ia = first.indexOf(a);
    const ib = first.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? first.length : ia) - (ib < 0 ? first.length : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return Object.fromEntries(keys.map((k) => [k, ordered(v[k]!)]));
}

const ITEM_KEYS = ['name', 'type', 'description', 'enabled', 'settings'];
const PROJECT_KEYS = ['name', 'description'];
/** Key order of canvas.yaml's entries: where and how big first, a note's (possibly long) text last. */
const CANVAS_KEYS = {
  groups: ['id', 'label', 'colour', 'x', 'y', 'width', 'height'],
  notes: ['id', 'x', 'y', 'width', 'height', 'text'],
} as const;

function orderedCanvas(canvas: Json): Json {
  if (!isObject(canvas)) return canvas;
  const out = ordered(canvas, ['groups', 'notes']) as JsonObject;
  for (const kind of ['groups', 'notes'] as const) {
    const list = out[kind];
    if (Array.isArray(list)) out[kind] = list.map((x) => ordered(x, CANVAS_KEYS[kind]));
  }
  return out;
}

function yaml(v: Json): string {
  return YAML.stringify(v, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** A file name for an item: its name with anything but letters, digits, `.`, `_`, `-` as `-`. */
function fileNameFor(name: string, taken: Set<string>): string {
  const base =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'item';
  let file = `${base}.yaml`;
  for (let n = 2; taken.has(file.toLowerCase()); n++) file = `${base}-${n}.yaml`;
  taken.add(file.toLowerCase());
  return file;
}

/** The files of an exported project: relative path → text. Deterministic for a given spec. */
export function specToFiles(spec: unknown): Map<string, string> {
  if (!isObject(spec)) throw new Error('a production spec must be an object');
  const items = Array.isArray(spec['items']) ? spec['items'].filter(isObject) : [];
  const { items: _items, connections, canvas, ...rest } = spec;
  const files = new Map<string, string>();
  const taken = new Set<string>();
  const layout: JsonObject = {};
  for (const item of items) {
    const { position, ...body } = item;
    const name = String(item['name']);
    files.set(`items/${fileNameFor(name, taken)}`, yaml(ordered(body, ITEM_KEYS)));
    if (position !== undefined) layout[name] = ordered(position);
  }
  const project: JsonObject = { ...(ordered(rest, PROJECT_KEYS) as JsonObject), items: items.map((i) => String(i['name'])), connections: ordered(connections ?? []) };
  files.set('project.yaml', yaml(project));
  files.set('layout.yaml', yaml(layout));
  if (canvas !== undefined) files.set('canvas.yaml', yaml(orderedCanvas(canvas)));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The spec of an exported folder's files (relative path → text).
 * @throws Error naming the file and what is wrong with it.
 */
export function filesToSpec(files: ReadonlyMap<string, string>): JsonObject {
  const parse = (file: string): Json => {
    try {
      return YAML.parse(files.get(file) ?? '') as Json;
    } catch (e) {
      throw new Error(`${file}: not valid YAML (${(e as Error).message})`, { cause: e });
    }
  };
  if (!files.has('project.yaml')) throw new Error('project.yaml is missing (is this a folder written by "hie export"?)');
  const project = parse('project.yaml');
  if (!isObject(project)) throw new Error('project.yaml: must be a mapping');
  const layout = files.has('layout.yaml') ? (parse('layout.yaml') ?? {}) : {};
  if (!isObject(layout)) throw new Error('layout.yaml: must be a mapping of item name → {x, y}');
  const canvas = files.has('canvas.yaml') ? (parse('canvas.yaml') ?? {}) : undefined;
  if (canvas !== undefined && !isObject(canvas)) throw new Error('canvas.yaml: must be a mapping with groups and notes');
  const byName = new Map<string, JsonObject>();
  for (const file of [...files.keys()].filter((f) => f.startsWith('items/')).sort()) {
    const item = parse(file);
    if (!isObject(item) || typeof item['name'] !== 'string') throw new Error(`${file}: an item needs a name`);
    if (byName.has(item['name'])) throw new Error(`${file}: a second item named "${item['name']}"`);
    byName.set(item['name'], item);
  }
  const { items: order, connections, ...rest } = project;
  // The item order of project.yaml, then items it does not list (new files), by file name.
  const names = Array.isArray(order) ? order.filter((n): n is string => typeof n === 'string') : [];
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) throw new Error(`project.yaml lists item(s) with no file under items/: ${missing.join(', ')}`);
  const all = [...names, ...[...byName.keys()].filter((n) => !names.includes(n))];
  const items = all.map((n) => {
    const item = byName.get(n)!;
    const position = layout[n];
    return position === undefined ? item : { ...item, position };
  });
  return { ...rest, items, connections: connections ?? [], ...(canvas === undefined ? {} : { canvas }) };
}

/** Writes the files under `dir`, replacing the item files (and canvas.yaml) an earlier export left there. */
export async function writeExport(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(path.join(dir, 'items'), { recursive: true });
  for (const f of await readdir(path.join(dir, 'items'))) if (f.endsWith('.yaml')) await rm(path.join(dir, 'items', f));
  await rm(path.join(dir, 'canvas.yaml'), { force: true });
  for (const [file, text] of files) await writeFile(path.join(dir, file), text);
}

/** A spec from a folder written by `hie export`, or from one production file (JSON or YAML). */
export async function readSpec(target: string): Promise<JsonObject> {
  if ((await stat(target)).isDirectory()) {
    const files = new Map<string, string>();
    for (const f of ['project.yaml', 'layout.yaml', 'canvas.yaml']) {
      const text = await readFile(path.join(target, f), 'utf8').catch(() => undefined);
      if (text !== undefined) files.set(f, text);
    }
    const itemsDir = path.join(target, 'items');
    const names = await readdir(itemsDir).catch(() => [] as string[]);
    for (const f of names.filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))) files.set(`items/${f}`, await readFile(path.join(itemsDir, f), 'utf8'));
    return filesToSpec(files);
  }
  const text = await readFile(target, 'utf8');
  const spec = (() => {
    try {
      return YAML.parse(text) as Json;
    } catch (e) {
      throw new Error(`${target}: not valid JSON or YAML (${(e as Error).message})`, { cause: e });
    }
  })();
  if (!isObject(spec)) throw new Error(`${target}: a production spec must be a mapping`);
  return spec;
}

/** JSON with sorted keys: equal for equal specs whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(ordered(v as Json));
}

// ── commands ──────────────────────────────────────────────────────────────────────────────────

type Api = TRPCClient<AppRouter>;

function client(url: string, token: string): Api {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url.replace(/\/+$/, '')}/api/trpc`, headers: () => ({ authorization: `Bearer ${token}` }) })],
  });
}

interface Common {
  api: Api;
  workspaceId: string;
}

async function connect(url: string | undefined, env: NodeJS.ProcessEnv): Promise<Common> {
  const token = env['HIE_TOKEN'];
  if (!token) throw new Error('HIE_TOKEN is not set: make an API token in the portal (Account → API tokens)');
  const api = client(url ?? env['HIE_URL'] ?? 'http://127.0.0.1:8080', token);
  const scope = await api.tokens.current.query();
  if (!scope) throw new Error('HIE_TOKEN is not an API token');
  return { api, workspaceId: scope.workspaceId };
}

async function findProject(c: Common, nameOrId: string) {
  const projects = await c.api.projects.list.query({ workspaceId: c.workspaceId });
  return projects.find((p) => p.name === nameOrId) ?? projects.find((p) => p.id === nameOrId);
}

function problemsText(e: unknown): string {
  if (e instanceof TRPCClientError) {
    const data = (e as TRPCClientError<AppRouter>).data as { code?: string; problems?: { pathText: string; message: string }[] } | undefined;
    const lines = data?.problems?.map((p) => `  ${p.pathText || '(root)'}: ${p.message}`) ?? [];
    return `${data?.code ?? 'error'}: ${e.message.split('\n')[0]}${lines.length ? `\n${lines.join('\n')}` : ''}`;
  }
  return (e as Error).message;
}

/** `hie export` and `hie apply`: returns the exit code. */
export async function gitops(command: 'export' | 'apply', args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return command === 'export' ? await exportCommand(args, out, env) : await applyCommand(args, out, env);
  } catch (e) {
    out(`hie ${command}: ${problemsText(e)}`);
    return 1;
  }
}

async function exportCommand(args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string' }, version: { type: 'string' }, url: { type: 'string' } } });
  const name = positionals[0];
  const version = values.version === undefined ? undefined : Number(values.version);
  if (!name || (version !== undefined && (!Number.isInteger(version) || version < 1))) {
    out(GITOPS_HELP.export);
    return 2;
  }
  const c = await connect(values.url, env);
  const project = await findProject(c, name);
  if (!project) throw new Error(`no project "${name}" in the token's workspace`);
  const spec = await c.api.projects.export.query({ id: project.id, ...(version ? { version } : {}) });
  const dir = path.resolve(values.dir ?? project.name.replace(/[^A-Za-z0-9._-]+/g, '-'));
  const files = specToFiles(spec);
  await writeExport(dir, files);
  out(`exported ${project.name} v${version ?? project.currentVersion} to ${dir} (${files.size} files)`);
  return 0;
}

async function applyCommand(args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f' },
      project: { type: 'string' },
      deploy: { type: 'boolean', default: false },
      environment: { type: 'string' },
      comment: { type: 'string' },
      url: { type: 'string' },
    },
  });
  if (!values.file || (values.environment && !values.deploy)) {
    out(GITOPS_HELP.apply);
    return 2;
  }
  const spec = await readSpec(values.file);
  const c = await connect(values.url, env);
  const name = values.project ?? (typeof spec['name'] === 'string' ? spec['name'] : undefined);
  if (!name) throw new Error('--project is required (the spec has no name)');
  let project = await findProject(c, name);
  let version: number;
  if (!project) {
    project = await c.api.projects.import.mutate({ workspaceId: c.workspaceId, name, spec: spec as never });
    version = project.currentVersion;
    out(`created ${name} v${version}`);
  } else {
    const current = await c.api.projects.get.query({ id: project.id });
    if (canonical(current.version.spec) === canonical(spec)) {
      version = current.version.version;
      out(`${name} v${version} is unchanged`);
    } else {
      const saved = await c.api.projects.save.mutate({ id: project.id, spec: spec as never, baseVersion: current.version.version, comment: values.comment ?? 'hie apply' });
      version = saved.version;
      out(`saved ${name} v${version}`);
    }
  }
  if (values.deploy) {
    const r = await c.api.production.deploy.mutate({ projectId: project.id, version, ...(values.environment ? { environment: values.environment } : {}) });
    out(`deployed ${name} v${r.version}${r.environment ? ` to ${r.environment}` : ''}`);
  }
  return 0;
}
