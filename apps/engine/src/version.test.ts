import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli';
import { repoRoot } from './testing/helpers';
import { hieVersion } from './version';

const rootVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

async function printed(args: string[]): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (chunks.push(String(s)), true));
  try {
    return { code: await main(args), text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('hie --version', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the root package.json version, the one place it is written', () => {
    expect(hieVersion()).toBe(rootVersion);
  });

  it('hie --version, -v and hie version print it', async () => {
    for (const args of [['--version'], ['-v'], ['version']]) expect(await printed(args)).toEqual({ code: 0, text: `${rootVersion}\n` });
  });

  it('the help lists the new commands', async () => {
    const { text } = await printed(['--help']);
    expect(text).toMatch(/plugins .*list the item-type plugins/);
    expect(text).toMatch(/new item-type <name>/);
    expect((await printed(['plugins', '--help'])).text).toMatch(/HIE_PLUGINS/);
  });
});
