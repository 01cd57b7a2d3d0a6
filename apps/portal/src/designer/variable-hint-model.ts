import { replaceReferences } from '@hie/config';

/** An environment as the hover reads it: plain values, and secrets (never their value) with their hosts. */
export interface HintEnvironment {
  name: string;
  variables: readonly { name: string; secret: boolean; value: string; hosts: readonly string[] }[];
}

/** What a setting holding references resolves to in one environment, as the designer shows it on hover. */
export interface HintResolution {
  env: string;
  /** The setting with its references replaced: plain values as they are, secrets as •••, missing ones as written. */
  text: string;
  missing: boolean;
  /** Each secret it uses, with the hosts it may be sent to (empty: none yet, a deploy is refused). */
  hostsOf: { name: string; hosts: readonly string[] }[];
}

export function resolveForHint(value: string, env: HintEnvironment): HintResolution {
  const plain = new Map(env.variables.filter((v) => !v.secret).map((v) => [v.name, v.value]));
  const secrets = new Map(env.variables.filter((v) => v.secret).map((v) => [v.name, v.hosts]));
  let missing = false;
  const hostsOf: HintResolution['hostsOf'] = [];
  const text = replaceReferences(value, (r, written) => {
    const found = r.secret ? (secrets.has(r.name) ? '•••' : undefined) : plain.get(r.name);
    if (found === undefined) missing = true;
    else if (r.secret && !hostsOf.some((h) => h.name === r.name)) hostsOf.push({ name: r.name, hosts: secrets.get(r.name)! });
    return found ?? written;
  });
  return { env: env.name, text, missing, hostsOf };
}
