/**
 * Plugins from configuration: item types defined with `defineItemType` (from @hie/item-sdk) in
 * packages or files named by `HIE_PLUGINS` or by `plugins:` in `hie.config.yaml`. Loaded once
 * at start by `hie start`, `hie run` and `hie engine`; worker threads import each type's module
 * by the resolved URL kept here (see the registry's `moduleOf`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtinItemTypes as builtinDescriptors, type ItemTypeDescriptor } from '@hie/config';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { apiMajor, ITEM_TYPE_API_VERSION, type ItemTypeDefinition } from './item-type';
import { EngineError } from './runtime/errors';
import { moduleUrl } from './runtime/module-url';
import { hieRoot } from './version';

/** The name of the optional configuration file (see {@link pluginConfigFile}). */
export const CONFIG_FILE_NAME = 'hie.config.yaml';

/** One plugin as configured: what was written, and the folder it is resolved from. */
export interface PluginRequest {
  /** A package name (`hie-plugin-x`, `@acme/hie-x`) or a path to a package folder or a module file. */
  spec: string;
  /** Where `spec` is resolved from: the working folder (HIE_PLUGINS) or the config file's folder. */
  base: string;
  /** Where it was configured: `HIE_PLUGINS`, the config file's path, or `default`. */
  from: string;
}

/** A loaded plugin: where it came from and the item types it defines. */
export interface LoadedPlugin extends PluginRequest {
  /** The module's resolved URL (what worker threads import). */
  url: string;
  /** The package's name and version, when the module sits in a package. */
  packageName?: string;
  packageVersion?: string;
  types: ItemTypeDefinition[];
}

/** `HIE_CONFIG`, else `hie.config.yaml` in the working folder (beside the default data dir `./.hie`), when it exists. */
export function pluginConfigFile(env: { HIE_CONFIG?: string }, cwd = process.cwd()): string | undefined {
  if (env.HIE_CONFIG) return path.resolve(cwd, env.HIE_CONFIG);
  const file = path.join(cwd, CONFIG_FILE_NAME);
  return existsSync(file) ? file : undefined;
}

const configSchema = z
  .object({
    plugins: z.array(z.string().min(1)).optional().describe('Packages or paths (relative to this file) of item-type plugins'),
  })
  .loose();

/** Splits `HIE_PLUGINS`: entries separated by commas or the path delimiter (`:` here). */
export function splitPluginList(value: string | undefined): string[] {
  return (value ?? '')
    .split(new RegExp(`[,${path.delimiter === ';' ? ';' : ':'}]`))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** What to load: `HIE_PLUGINS` first, then the config file's `plugins:`, then the defaults. */
export function pluginRequests(env: { HIE_PLUGINS?: string; HIE_CONFIG?: string }, opts: { cwd?: string; defaults?: readonly PluginRequest[] } = {}): PluginRequest[] {
  const cwd = opts.cwd ?? process.cwd();
  const out: PluginRequest[] = splitPluginList(env.HIE_PLUGINS).map((spec) => ({ spec, base: cwd, from: 'HIE_PLUGINS' }));
  const file = pluginConfigFile(env, cwd);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new EngineError('engine.plugin', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'user');
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (e) {
      throw new EngineError('engine.plugin', `${file}: not valid YAML (${(e as Error).message})`, 'user');
    }
    const r = configSchema.safeParse(parsed);
    if (!r.success) throw new EngineError('engine.plugin', `${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, 'user');
    for (const spec of r.data.plugins ?? []) out.push({ spec, base: path.dirname(file), from: file });
  }
  return [...out, ...(opts.defaults ?? [])];
}

function isPath(spec: string): boolean {
  return spec.startsWith('.') || path.isAbsolute(spec);
}

/** The module file a request names: a package (by name, from its base folder) or a path (a folder with package.json, or a file). */
function resolveRequest(req: PluginRequest): string {
  const require = createRequire(path.join(req.base, 'hie-plugins.cjs'));
  const target = isPath(req.spec) ? path.resolve(req.base, req.spec) : req.spec;
  try {
    return require.resolve(target);
  } catch (e) {
    const where = isPath(req.spec) ? target : `node_modules of ${req.base} (or above)`;
    throw new EngineError('engine.plugin', `plugin "${req.spec}" (${req.from}): not found in ${where}; install it (npm install ${req.spec}) or fix the path [${(e as NodeJS.ErrnoException).code ?? 'error'}]`, 'user', {
      spec: req.spec,
    });
  }
}

/** The package.json above a module file, if any (name and version for `hie plugins`). */
function packageOf(file: string): { name?: string; version?: string } {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const { name, version } = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        return { name, version };
      } catch {
        return {};
      }
    }
    if (path.dirname(dir) === dir) return {};
  }
}

function looksLikeDefinition(v: unknown): v is ItemTypeDefinition {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { create?: unknown }).create === 'function';
}

/** Every item-type definition a module exports (by name, as `default`, or in an exported array), each once. */
function definitionsOf(mod: Record<string, unknown>): ItemTypeDefinition[] {
  const found = new Set<ItemTypeDefinition>();
  for (const value of Object.values(mod)) {
    if (looksLikeDefinition(value)) found.add(value);
    else if (Array.isArray(value)) for (const v of value) if (looksLikeDefinition(v)) found.add(v);
  }
  return [...found];
}

/** A zod (v4) schema: what the portal's forms and the engine's checks are built from. */
function isZodSchema(v: unknown): v is z.ZodType {
  return typeof v === 'object' && v !== null && '_zod' in v && typeof (v as { safeParse?: unknown }).safeParse === 'function';
}

const TYPE_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

/** Checks one definition from a plugin: API version, name, kind, settings schema. */
function checkDefinition(def: ItemTypeDefinition, where: string): void {
  const fail = (what: string) => {
    throw new EngineError('engine.plugin', `plugin ${where}: item type "${def.type}": ${what}`, 'user', { type: def.type });
  };
  if (typeof def.apiVersion !== 'string') fail(`has no apiVersion: define it with defineItemType from @hie/item-sdk`);
  if (apiMajor(def.apiVersion!) !== apiMajor(ITEM_TYPE_API_VERSION)) {
    fail(`built for item-type API ${def.apiVersion}, but this HIE runs API ${ITEM_TYPE_API_VERSION}: rebuild it against @hie/item-sdk ${apiMajor(ITEM_TYPE_API_VERSION)}.x`);
  }
  if (!TYPE_NAME.test(def.type)) fail(`the type must be dotted lower-case, e.g. "acme.sftp.in"`);
  if (def.kind !== 'service' && def.kind !== 'process' && def.kind !== 'operation') fail(`kind must be service, process or operation, got ${JSON.stringify(def.kind)}`);
  if (!isZodSchema(def.settings)) fail(`settings must be a zod schema (import { z } from '@hie/item-sdk'), got ${def.settings === null ? 'null' : typeof def.settings}`);
  try {
    z.toJSONSchema(def.settings, { io: 'input', unrepresentable: 'any' });
  } catch (e) {
    fail(`its settings schema cannot be shown as a form (${(e as Error).message})`);
  }
  if (typeof def.description !== 'string' || def.description.length === 0) fail('needs a description (shown in the palette)');
}

/**
 * Loads every requested plugin and checks its item types: a missing package, a module with no
 * item type, a type that clashes with a built-in or another plugin, a settings schema that is
 * not zod, or another major item-type API version is an `engine.plugin` user error that names
 * the plugin and where it was configured.
 */
export async function loadPlugins(requests: readonly PluginRequest[], builtins: readonly { type: string }[] = builtinDescriptors): Promise<LoadedPlugin[]> {
  const owner = new Map<string, string>(builtins.map((b) => [b.type, 'a built-in item type']));
  const loaded: LoadedPlugin[] = [];
  const seen = new Set<string>();
  for (const req of requests) {
    const file = resolveRequest(req);
    if (seen.has(file)) continue; // named twice (env and config file): load once
    seen.add(file);
    const url = pathToFileURL(file).href;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      throw new EngineError('engine.plugin', `plugin "${req.spec}" (${req.from}): ${file} failed to load: ${(e as Error).message}`, 'user', { spec: req.spec });
    }
    const where = `"${req.spec}" (${req.from})`;
    const types = definitionsOf(mod);
    if (types.length === 0) throw new EngineError('engine.plugin', `plugin ${where}: ${file} exports no item type (export what defineItemType returns)`, 'user', { spec: req.spec });
    for (const def of types) {
      checkDefinition(def, where);
      const other = owner.get(def.type);
      if (other) throw new EngineError('engine.plugin', `plugin ${where}: item type "${def.type}" clashes with ${other}; rename it`, 'user', { type: def.type });
      owner.set(def.type, `plugin "${req.spec}"`);
    }
    const pkg = packageOf(file);
    loaded.push({ ...req, url, packageName: pkg.name, packageVersion: pkg.version, types });
  }
  return loaded;
}

/** The definitions to register, each with the module URL its worker threads import. */
export function pluginDefinitions(plugins: readonly LoadedPlugin[]): ItemTypeDefinition[] {
  return plugins.flatMap((p) => p.types.map((t) => ({ ...t, module: p.url })));
}

/** What the manager needs of the plugins' types (palette, forms, validation at save). */
export function pluginDescriptors(plugins: readonly LoadedPlugin[]): ItemTypeDescriptor[] {
  return plugins.flatMap((p) => p.types.map((t) => ({ type: t.type, kind: t.kind, description: t.description, settings: t.settings })));
}

/**
 * The plugins shipped with HIE: each package folder under the checkout's `plugins/` (e.g.
 * plugins/sftp), loaded from its `src/index.ts` — or, running the build, its compiled
 * `dist/plugins/<name>/src/index.js`.
 */
export function defaultPluginRequests(root = hieRoot()): PluginRequest[] {
  const dir = path.join(root, 'plugins');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'package.json')))
    .map((e) => ({ spec: fileURLToPath(moduleUrl(`../../../plugins/${e.name}/src/index.ts`, import.meta.url)), base: dir, from: 'default' }));
}

/** The plugins of this process's configuration: HIE_PLUGINS, hie.config.yaml, and (unless HIE_DEFAULT_PLUGINS=off) the shipped ones. */
export async function loadConfiguredPlugins(env: { HIE_PLUGINS?: string; HIE_CONFIG?: string; HIE_DEFAULT_PLUGINS?: 'on' | 'off' }, cwd = process.cwd()): Promise<LoadedPlugin[]> {
  return loadPlugins(pluginRequests(env, { cwd, defaults: env.HIE_DEFAULT_PLUGINS === 'off' ? [] : defaultPluginRequests() }));
}
