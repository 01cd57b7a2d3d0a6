#!/usr/bin/env node
// `npm run build`: compiles the server side (bin/, apps/engine, apps/manager, libs/*) from
// TypeScript to JavaScript under dist/, one output file per source file, with the same folder
// layout (dist/apps/engine/src/cli.js, dist/libs/store/src/index.js, dist/bin/main.js …) so every
// `new URL('…', import.meta.url)` (the Piscina worker, item modules, store migrations) still
// finds its neighbour. Imports are rewritten for plain Node ESM: relative ones get their `.js`,
// `@hie/x` becomes a relative path to dist/libs/x/src/index.js; third-party packages stay
// imports resolved from node_modules at run time. The portal keeps its own build (next build).
//
// Usage: node tools/scripts/build.mjs [--outdir <dir>]   (about a second; also the Nx target
// `@hie/engine:build`). The build ends by writing its stamp (<outdir>/.hie-build.json): bin/hie.mjs
// runs the build only when the stamp is newer than every source (bin/build-state.mjs).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { BUILD_SOURCES, BUILD_STAMP } from '../../bin/build-state.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(process.cwd(), values.outdir ?? path.join(root, 'dist'));

/** `@hie/<name>` → the absolute path of its entry (the package's `exports['.']`). */
const packages = new Map();
for (const group of ['libs', 'apps', 'plugins']) {
  if (!existsSync(path.join(root, group))) continue;
  for (const name of readdirSync(path.join(root, group))) {
    const file = path.join(root, group, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const dot = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.'];
    const entry = typeof dot === 'string' ? dot : dot?.default; // `{ types, default }` (published-shaped, e.g. @hie/item-sdk)
    if (pkg.name?.startsWith('@hie/') && typeof entry === 'string') packages.set(pkg.name, path.join(root, group, name, entry));
  }
}

const isSource = (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts');
function walk(dir, into) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, into);
    else if (isSource(e.name)) into.push(p);
  }
  return into;
}
const entries = [
  ...readdirSync(path.join(root, 'bin')).filter(isSource).map((f) => path.join(root, 'bin', f)),
  ...['apps/engine', 'apps/manager', ...readdirSync(path.join(root, 'libs')).map((l) => `libs/${l}`), ...(existsSync(path.join(root, 'plugins')) ? readdirSync(path.join(root, 'plugins')).map((p) => `plugins/${p}`) : [])]
    .filter((p) => existsSync(path.join(root, p, 'src')))
    .flatMap((p) => walk(path.join(root, p, 'src'), [])),
];
const entrySet = new Set(entries);

/** The source file a relative import names: `./x`, `./x.js` (the TS convention), `./dir` (index). */
function resolveRelative(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [base, `${base}.ts`, path.join(base, 'index.ts')];
  if (/\.[cm]?js$/.test(base)) candidates.unshift(base.replace(/\.([cm]?)js$/, '.$1ts'));
  return candidates.find((c) => entrySet.has(c));
}

const outFile = (src) => path.join(outdir, path.relative(root, src)).replace(/\.ts$/, '.js');

/** Compiles each file on its own: every import of our code becomes an external `./….js`. */
const perFile = {
  name: 'hie-per-file',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const spec = args.path;
      let target;
      // JSON data beside the code (the built-in v2→FHIR maps) is inlined into the file that imports it.
      if (spec.startsWith('.') && spec.endsWith('.json')) return undefined;
      if (spec.startsWith('.')) {
        target = resolveRelative(args.importer, spec);
        if (!target) return { errors: [{ text: `cannot resolve "${spec}" to a compiled source (tests are not built)` }] };
      } else if (packages.has(spec)) {
        target = packages.get(spec);
        if (!entrySet.has(target)) return { errors: [{ text: `${spec} is not built (its entry ${path.relative(root, target)} is not a build source)` }] };
      } else {
        return { path: spec, external: true }; // node:*, third-party packages (node_modules at run time)
      }
      let rel = path.relative(path.dirname(outFile(args.importer)), outFile(target)).split(path.sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

const t0 = Date.now();
// Wipe only what a build made (a stale file could be loaded by a stale import): never a folder of other things.
if (existsSync(outdir) && readdirSync(outdir).length > 0 && !existsSync(path.join(outdir, BUILD_STAMP)) && !existsSync(path.join(outdir, 'bin/main.js'))) {
  throw new Error(`${outdir} is not empty and holds no build: refusing to replace it`);
}
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: entries,
  outdir,
  outbase: root,
  bundle: true, // only so the plugin sees every import; it marks them all external
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [perFile],
});
// Runtime files read beside the code: the store's SQL migrations (libs/store/src/store.ts).
cpSync(path.join(root, 'libs/store/drizzle'), path.join(outdir, 'libs/store/drizzle'), { recursive: true });
// Plain ESM for Node: the output folder says so, whatever package.json is (or is not) above it.
// It carries HIE's name and version too (`hie --version` finds it, as it finds the root one from the sources).
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
writeFileSync(path.join(outdir, 'package.json'), `${JSON.stringify({ name: 'hie', version, type: 'module', private: true }, null, 2)}\n`);
// The plugins shipped with HIE are found by their package.json (apps/engine/src/plugins.ts).
for (const p of entries.filter((e) => e.endsWith(`${path.sep}src${path.sep}index.ts`) && path.relative(root, e).startsWith(`plugins${path.sep}`))) {
  const pkg = path.join(path.dirname(path.dirname(p)), 'package.json');
  if (existsSync(pkg)) cpSync(pkg, path.join(outdir, path.relative(root, pkg)));
}
if (!existsSync(path.join(outdir, 'bin/main.js'))) throw new Error('bin/main.js was not built');
// Last, so an interrupted build has no stamp and is never used.
writeFileSync(path.join(outdir, BUILD_STAMP), `${JSON.stringify({ sources: BUILD_SOURCES, files: entries.length, builtAt: new Date().toISOString() }, null, 2)}\n`);
process.stdout.write(`built ${entries.length} files into ${path.relative(process.cwd(), outdir) || '.'} in ${Date.now() - t0} ms${result.warnings.length ? `, ${result.warnings.length} warnings` : ''}\n`);
