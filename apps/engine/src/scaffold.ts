/**
 * `hie new item-type <name>`: writes a plugin package a developer can install, test and load with
 * HIE_PLUGINS. The example type writes each message to a file (atomic), so its test runs on real
 * files; it depends on @hie/item-sdk only, through a `file:` dependency on this HIE checkout.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EngineError } from './runtime/errors';

/** npm package names: lower-case, optional scope. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

export interface ScaffoldOptions {
  /** The package name (`hie-plugin-acme`, `@acme/hie-archive`). */
  name: string;
  /** The folder to create the package folder in. */
  dir: string;
  /** `service`, `process` or `operation` (the example is an operation: see the README it writes). */
  kind: string;
  /** The SDK to depend on. @defaultValue this checkout's libs/item-sdk */
  sdkDir?: string;
}

/** The item type's name from the package name: `@acme/hie-plugin-archive` → `archive.out`. */
export function typeNameFor(pkg: string): string {
  const base = pkg
    .replace(/^@[^/]+\//, '')
    .replace(/^hie-plugin-/, '')
    .replace(/^hie-/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${base || 'custom'}.out`;
}

export async function scaffoldItemType(o: ScaffoldOptions): Promise<{ dir: string; type: string }> {
  if (!PACKAGE_NAME.test(o.name)) throw new EngineError('cli.bad_name', `"${o.name}" is not an npm package name (lower-case letters, digits, - . _; optional @scope/)`, 'user');
  if (o.kind !== 'operation') throw new EngineError('cli.bad_kind', `--kind ${o.kind}: the scaffold writes an operation; change "kind" in src/index.ts after (see its README)`, 'user');
  const dir = path.resolve(o.dir, o.name.replace(/^@[^/]+\//, ''));
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new EngineError('cli.exists', `${dir} exists and is not empty`, 'user');
  const type = typeNameFor(o.name);
  // Both resolved through node_modules (real paths): from the sources and from a build in the checkout.
  const require = createRequire(import.meta.url);
  const sdk = o.sdkDir ?? realpathSync(path.dirname(require.resolve('@hie/item-sdk/package.json')));
  const vitest = realpathSync(path.dirname(require.resolve('vitest/package.json')));
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: o.name,
        version: '0.1.0',
        description: `HIE item type ${type}`,
        type: 'module',
        keywords: ['hie-plugin'],
        exports: { '.': './src/index.ts' },
        main: './src/index.ts',
        scripts: { test: 'vitest run' },
        dependencies: { '@hie/item-sdk': `file:${sdk}` },
        // This HIE's own Vitest, linked: installs offline (online, "vitest": "^4" works as well).
        devDependencies: { vitest: `file:${vitest}` },
      },
      null,
      2,
    )}\n`,
    'src/index.ts': indexSource(type),
    'src/index.test.ts': testSource(type),
    'README.md': readme(o.name, type),
    '.gitignore': 'node_modules\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text, { flag: 'wx' });
  }
  return { dir, type };
}

function indexSource(type: string): string {
  return `import path from 'node:path';
import { defineItemType, ensureFolderInsideRoots, HieError, resolveInsideRoots, writeFileAtomic, z } from '@hie/item-sdk';

/** Settings of ${type}: every field described and defaulted (the portal's form is built from them). */
export const settings = z.object({
  directory: z.string().min(1).default('./out').describe('Folder to write into (must lie under HIE_FILE_ROOTS)'),
  extension: z
    .string()
    .regex(/^[a-z0-9]{1,10}$/, 'letters and digits, up to 10')
    .default('txt')
    .describe('File extension of each message file'),
});

/**
 * ${type}: writes each message to <directory>/<message id>.<extension>, atomically (a temp file,
 * flushed, then renamed): a reader never sees half a message.
 */
export const itemType = defineItemType({
  type: '${type}',
  version: 1,
  kind: 'operation',
  description: 'Write each message to its own file (example plugin)',
  settings,
  module: import.meta.url,
  create(s, ctx) {
    return {
      async onStart() {
        await ensureFolderInsideRoots(s.directory, ctx.policy);
      },
      async onMessage(envelope) {
        // Checked again per message: a folder swapped for a symlink out of the roots is refused.
        const dir = await resolveInsideRoots(s.directory, ctx.policy);
        const target = path.join(dir, \`\${envelope.header.messageId}.\${s.extension}\`);
        if (path.dirname(target) !== dir) throw new HieError('${type}.bad_name', 'message id leaves the folder', { kind: 'user' });
        await writeFileAtomic(target, envelope.body.raw);
      },
    };
  },
});

export default itemType;
`;
}

function testSource(type: string): string {
  return `import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, ITEM_TYPE_API_VERSION, MessageEnvelope } from '@hie/item-sdk';
import { itemType } from './index';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('${type}', () => {
  it('is built for this item-type API and its settings have defaults', () => {
    expect(itemType.apiVersion).toBe(ITEM_TYPE_API_VERSION);
    expect(itemType.settings.parse({})).toEqual({ directory: './out', extension: 'txt' });
  });

  it('refuses settings outside the schema', () => {
    expect(itemType.settings.safeParse({ extension: '../x' }).success).toBe(false);
  });

  it('writes each message to its own file in a real folder', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), '${type.replace(/\./g, '-')}-'));
    dirs.push(root);
    const { ctx } = createTestContext({ roots: [root] });
    const handler = await itemType.create(itemType.settings.parse({ directory: path.join(root, 'out') }), ctx);
    await handler.onStart?.(ctx);
    const envelope = MessageEnvelope.create({ raw: 'MSH|^~\\\\&|A|B\\r', source: 'test' });
    await handler.onMessage?.(envelope, ctx);
    const files = await readdir(path.join(root, 'out'));
    expect(files).toEqual([\`\${envelope.header.messageId}.txt\`]);
    expect(await readFile(path.join(root, 'out', files[0]), 'utf8')).toBe('MSH|^~\\\\&|A|B\\r');
  });

  it('refuses a folder outside the host roots', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), '${type.replace(/\./g, '-')}-'));
    dirs.push(root);
    const { ctx } = createTestContext({ roots: [root] });
    const handler = await itemType.create(itemType.settings.parse({ directory: os.tmpdir() }), ctx);
    await expect(Promise.resolve(handler.onStart?.(ctx))).rejects.toThrow(/outside/);
  });
});
`;
}

function readme(name: string, type: string): string {
  return `# ${name}

An HIE item-type plugin: \`${type}\` (an operation) writes each message to its own file,
atomically, in a folder under \`HIE_FILE_ROOTS\`.

## Develop

\`\`\`sh
npm install --offline   # @hie/item-sdk is a file: dependency on your HIE checkout
npx vitest run          # the tests write real files in a temp folder
\`\`\`

The type is defined in \`src/index.ts\` with \`defineItemType\` from \`@hie/item-sdk\`: its
\`settings\` are a zod schema (\`z\` from the SDK) where every field has a description and a
default, so the portal draws its form with no UI code. To make a \`service\` or a \`process\`
instead, change \`kind\` and the handler (services call \`ctx.submit\`, processes
\`ctx.send\`): see the SDK's README.

## Use it in HIE

\`\`\`sh
cd my-hie-project && npm install --offline /path/to/${name.replace(/^@[^/]+\//, '')}
HIE_PLUGINS=${name} npx hie run production.yaml     # or: plugins: [${name}] in hie.config.yaml
npx hie plugins                                       # lists it, and where it was loaded from
\`\`\`
`;
}
