import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinItemTypes } from './item-types';
import { itemJsonSchema } from './json-schema';
import { validateProduction } from './validate';
import { ANY_KEY, mapSecrets, redactSecrets, secret, SECRET_PLACEHOLDER, secretPaths, secretPathsOfSchema, secretsBoundToOfSchema, valueAt, type SecretPathLookup } from './secrets';

const builtins: SecretPathLookup = (type) => {
  const d = builtinItemTypes.find((t) => t.type === type);
  return d ? secretPathsOfSchema(d.settings) : undefined;
};

describe('secret settings', () => {
  it('the built-in secrets are marked: http.in bearerToken, every http.out header value', () => {
    const marked = Object.fromEntries(builtinItemTypes.map((d) => [d.type, secretPathsOfSchema(d.settings)]));
    expect(marked['http.in']).toEqual([['bearerToken']]);
    expect(marked['http.out']).toEqual([['headers', ANY_KEY]]);
    for (const t of ['hl7.mllp.in', 'hl7.mllp.out', 'file.in', 'file.out', 'hl7.router', 'hl7.transform']) expect(marked[t]).toEqual([]);
    // http.out's headers are only kept while its URL stays the same.
    expect(Object.fromEntries(builtinItemTypes.map((d) => [d.type, secretsBoundToOfSchema(d.settings)]))).toMatchObject({ 'http.out': ['url'], 'http.in': [] });
  });

  it('the mark reaches the JSON Schema the portal renders (also inside the item schema)', () => {
    const httpIn = builtinItemTypes.find((d) => d.type === 'http.in')!;
    const item = itemJsonSchema({ settings: httpIn.settings }) as { properties: { settings: { properties: Record<string, { secret?: boolean }> } } };
    expect(item.properties.settings.properties['bearerToken']?.secret).toBe(true);
    expect(item.properties.settings.properties['port']?.secret).toBeUndefined();
  });

  it('finds secrets in nested objects, lists, unions and recursive $refs', () => {
    type Node = { password?: string; children?: Node[] };
    const node: z.ZodType<Node> = z.lazy(() => z.object({ password: secret(z.string()).optional(), children: z.array(node).optional() }));
    const schema = z.object({
      auth: z.object({ user: z.string(), password: secret(z.string()) }),
      keys: z.array(secret(z.string())),
      either: z.union([z.object({ token: secret(z.string()) }), z.object({ plain: z.string() })]),
      tree: node,
    });
    const paths = secretPaths(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })).map((p) => p.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['auth.password', 'either.token', 'keys.*', 'tree.password', 'tree.children.*.password', 'tree.children.*.children.*.password']));
    expect(paths.every((p) => p.endsWith('password') || p.endsWith('token') || p === 'keys.*')).toBe(true);
  });

  it('redacts set secrets only, leaves everything else and the input untouched', () => {
    const spec = {
      name: 'p',
      items: [
        { name: 'In', type: 'http.in', settings: { port: 0, bearerToken: 's3cret' } },
        { name: 'Open', type: 'http.in', settings: { bearerToken: '' } },
        { name: 'Out', type: 'http.out', settings: { url: 'http://x', headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'k' } } },
        { name: 'Files', type: 'file.out', settings: { directory: '/tmp/s3cret' } },
      ],
    };
    const copy = structuredClone(spec);
    const red = redactSecrets(spec, builtins);
    expect(spec).toEqual(copy);
    expect(red.items[0]!.settings).toEqual({ port: 0, bearerToken: SECRET_PLACEHOLDER });
    expect(red.items[1]!.settings).toEqual({ bearerToken: '' });
    expect(red.items[2]!.settings).toEqual({ url: 'http://x', headers: { Authorization: SECRET_PLACEHOLDER, 'X-Api-Key': SECRET_PLACEHOLDER } });
    expect(red.items[3]).toBe(spec.items[3]);
    expect(JSON.stringify(red)).not.toContain('abc');
  });

  it('mapSecrets reports where each secret is', () => {
    const seen: unknown[] = [];
    mapSecrets({ items: [{ name: 'Out', type: 'http.out', settings: { headers: { A: '1' } } }] }, builtins, (v, at) => seen.push([v, at]));
    expect(seen).toEqual([['1', { index: 0, item: 'Out', path: ['headers', 'A'], specPath: ['items', 0, 'settings', 'headers', 'A'] }]]);
    expect(valueAt({ a: [{ b: 'x' }] }, ['a', 0, 'b'])).toBe('x');
    expect(valueAt({ a: 1 }, ['a', 'b'])).toBeUndefined();
  });

  it('a spec still holding "••• set" (an export) does not validate: the engine would take the placeholder for the token', () => {
    const itemTypes = (type: string) => builtinItemTypes.find((d) => d.type === type);
    const exported = {
      name: 'p',
      items: [
        { name: 'In', type: 'http.in', settings: { bearerToken: SECRET_PLACEHOLDER } },
        { name: 'Out', type: 'http.out', settings: { url: 'http://x.test/', headers: { Accept: 'text/plain', Authorization: SECRET_PLACEHOLDER } } },
      ],
    };
    const r = validateProduction(exported, { itemTypes });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.map((p) => `${p.pathText} ${p.code}`)).toEqual(['items[0].settings.bearerToken secret_missing', 'items[1].settings.headers.Authorization secret_missing']);
    const filled = structuredClone(exported);
    filled.items[0]!.settings.bearerToken = 'real';
    filled.items[1]!.settings.headers!.Authorization = 'Bearer real';
    expect(validateProduction(filled, { itemTypes }).ok).toBe(true);
  });
});
