import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandsOf, docsDir, documentedItemTypes, generateReference, itemTypeSlug, scanRouterSources } from './generate';

// Spawns `hie <command> --help` for each command: made once for the whole file.
let generated: ReturnType<typeof generateReference> | undefined;
const reference = () => (generated ??= generateReference());

describe('the generated reference (docs/reference)', () => {
  it('is what the code generates now: run `npm run docs` after changing settings, commands, procedures or metrics', async () => {
    const files = await reference();
    const stale: string[] = [];
    for (const f of files) {
      const file = path.join(docsDir, f.path);
      if (!existsSync(file) || readFileSync(file, 'utf8') !== f.content) stale.push(f.path);
    }
    const committed = readdirSync(path.join(docsDir, 'reference'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(docsDir, path.join(e.parentPath, e.name)));
    const extra = committed.filter((p) => !files.some((f) => f.path === p));
    expect({ stale, extra }, 'docs/reference is out of date: run `npm run docs`').toEqual({ stale: [], extra: [] });
  }, 400_000);

  it('has a page per item type with each of its settings', async () => {
    const files = await reference();
    const types = await documentedItemTypes();
    expect(types.map((t) => t.type)).toContain('sftp.in');
    for (const t of types) {
      const page = files.find((f) => f.path === `reference/item-types/${itemTypeSlug(t.type)}.md`);
      expect(page, t.type).toBeDefined();
      for (const key of Object.keys((t.settings as unknown as { shape?: object }).shape ?? {})) expect(page!.content, `${t.type}.${key}`).toContain(`\`${key}\``);
    }
  }, 400_000);

  it('lists every command of `hie --help`, and finds each procedure’s role in the router sources', () => {
    expect(commandsOf('hie\n\nCommands:\n  start   run\n  audit verify   check\n  run <p>  go\n\nRun …')).toEqual(['start', 'audit', 'run']);
    const sources = scanRouterSources();
    expect(sources.get('items.upsert')?.role).toBe('analyst');
    expect(sources.get('items.list')?.role).toBe('viewer');
    expect(sources.get('health')?.isPublic).toBe(true);
  });
});
