/**
 * Environments at deploy: a spec's `${NAME}` / `${secret:NAME}` references are resolved with the
 * target environment's values (secrets decrypted here, like secret settings, just before the
 * spec goes to the coordinator), and the resolved spec is what is validated and run. A secret
 * goes only to the hosts its environment allows it (see `secretDestinationProblems`).
 */
import {
  HieError,
  resolveReferences,
  secretDestinationProblems,
  type SecretDestinationProblem,
  type SecretHosts,
  type SettingsSchemaLookup,
  type VariableValues,
} from '@hie/config';
import type { Coordinator } from '@hie/cluster';
import type { Environment, Store } from '@hie/store';
import { listItemTypes, type ItemTypeSources } from './item-types.js';
import type { SecretBox } from './secrets.js';
import { invalidSpec } from './spec.js';

/** The place an environment secret is bound to (AES-GCM additional data): copied elsewhere it does not open. */
export function variablePlace(environmentId: string, name: string): string {
  return `env\u0000${environmentId}\u0000${name}`;
}

/**
 * The values of an environment, secrets decrypted.
 * @throws HieError `secrets.unavailable` when a secret does not decrypt (another HIE_SECRET_KEY), naming it.
 */
export async function environmentValues(deps: { store: Store; secrets?: SecretBox }, env: Environment): Promise<VariableValues & { secretHosts: SecretHosts }> {
  const plain = new Map<string, string>();
  const secret = new Map<string, string>();
  const hosts = new Map<string, readonly string[]>();
  for (const v of await deps.store.environments.variables(env.id)) {
    if (!v.secret) {
      plain.set(v.name, v.value);
      continue;
    }
    hosts.set(v.name, v.hosts);
    const opened = deps.secrets?.open(v.value, variablePlace(env.id, v.name));
    if (opened === undefined) {
      throw new HieError('secrets.unavailable', `cannot decrypt the secret ${v.name} of environment "${env.name}": HIE_SECRET_KEY is not the key it was saved with`, {
        kind: 'operational',
      });
    }
    secret.set(v.name, opened);
  }
  return { environment: env.name, plain, secret, secretHosts: { environment: env.name, hosts } };
}

/** The error of a deploy that would send environment secrets where they are not allowed. */
export function secretHostError(problems: SecretDestinationProblem[]): HieError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new HieError('secrets.host_not_allowed', `${problems[0]!.message}${more}`, { kind: 'user', details: { problems } });
}

/** The settings JSON Schema of each item type (built-ins and plugins), for typed resolution. */
export async function settingsSchemas(sources: ItemTypeSources): Promise<SettingsSchemaLookup> {
  const types = new Map((await listItemTypes(sources)).map((t) => [t.type, t.settingsSchema]));
  return (type) => types.get(type);
}

/**
 * `spec` (its secret settings already in plaintext) with its references resolved in `env`
 * (none: a spec with references is refused, naming each).
 * @throws HieError `config.invalid` naming the item, the setting and each missing variable;
 * `secrets.host_not_allowed` when an item would send an environment secret to a host the secret
 * does not allow (naming the secret, the item and the host).
 */
export async function resolveInEnvironment<T>(
  deps: { store: Store; coordinator: Coordinator; pluginItemTypes?: ItemTypeSources['pluginItemTypes']; secrets?: SecretBox },
  spec: T,
  env: Environment | undefined,
): Promise<T> {
  const values = env
    ? await environmentValues(deps, env)
    : { environment: '(none: deploy to an environment)', plain: new Map<string, string>(), secret: new Map<string, string>(), secretHosts: { environment: '', hosts: new Map() } };
  const schemas = await settingsSchemas(deps);
  const result = resolveReferences(spec, values, schemas);
  if (!result.ok) throw invalidSpec(result.problems);
  const refused = secretDestinationProblems(spec, result.spec, values.secretHosts, schemas);
  if (refused.length > 0) throw secretHostError(refused);
  return result.spec;
}
