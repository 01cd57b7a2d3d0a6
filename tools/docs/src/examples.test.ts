import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { docsDir, repoRoot } from './generate';

const run = promisify(execFile);

/** The ```ts blocks of a guide whose first line is `// example: <name>`. */
export function examplesOf(markdown: string): { name: string; code: string }[] {
  return [...markdown.matchAll(/```ts\n\/\/ example: ([\w-]+)\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, code: m[2]! }));
}

// Inside the repository, so `@hie/*` resolve as they do for any code of ours.
const scratch = path.join(repoRoot, 'tools/docs/.examples');

describe('the developer guide’s examples', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const examples = examplesOf(readFileSync(path.join(docsDir, 'guides/developer.md'), 'utf8'));

  it('are there', () => {
    expect(examples.map((e) => e.name)).toEqual(['hl7', 'envelope', 'queues', 'resilience']);
  });

  it.each(examples.map((e) => [e.name, e.code] as const))('%s runs as written', async (name, code) => {
    mkdirSync(scratch, { recursive: true });
    const file = path.join(scratch, `${name}.ts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    const r = await run(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, timeout: 45_000 }).catch((e: { stderr?: string; code?: number }) => ({ stderr: e.stderr ?? String(e), failed: true }));
    expect('failed' in r ? r.stderr : '').toBe('');
  }, 60_000);
});
