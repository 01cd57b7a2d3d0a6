/**
 * `npm run docs`: regenerates docs/reference/ from the code (item types, CLI, API, metrics).
 * Stale generated pages (a type that no longer exists) are removed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { docsDir, generateReference } from './generate';

function listFiles(dir: string, base = dir): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]));
}

const files = await generateReference();
const wanted = new Set(files.map((f) => f.path));
const refDir = path.join(docsDir, 'reference');
for (const old of listFiles(refDir)) {
  const rel = path.join('reference', old);
  if (!wanted.has(rel)) rmSync(path.join(docsDir, rel));
}
for (const f of files) {
  mkdirSync(path.dirname(path.join(docsDir, f.path)), { recursive: true });
  writeFileSync(path.join(docsDir, f.path), f.content);
}
process.stdout.write(`docs/reference: ${files.length} files written\n`);
