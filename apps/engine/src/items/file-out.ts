import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileOutSettings } from '@hie/config';
import { ensureFolderInsideRoots, resolveInsideRoots } from '@hie/policy';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { DIR_MODE, FILE_MODE } from './file-modes';
import { fillTemplate, writeFileAtomic } from '@hie/item-sdk';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (_e) {
    return false;
  }
}

/**
 * `file.out`: one file per message with exactly the message bytes. Atomic: written to a hidden temp
 * file, flushed, then renamed, so a reader never sees half a message. The folder must lie under
 * HIE_FILE_ROOTS after realpath: checked at start and again before every write (a folder swapped
 * for a symlink meanwhile is refused); the rename replaces a symlink at the target, never follows it.
 */
export const fileOut = defineItemType({
  type: 'file.out',
  version: 1,
  kind: 'operation',
  description: 'Write each message to a file (atomic)',
  settings: fileOutSettings,
  module: import.meta.url,
  dryRun: true,
  create(settings, ctx) {
    let dir = '';
    let written = 0;
    return {
      async onStart() {
        dir = await ensureFolderInsideRoots(settings.directory, ctx.policy, DIR_MODE);
      },
      async onMessage(envelope) {
        // Resolved again per message: a folder swapped for a symlink out of the roots is refused.
        dir = await resolveInsideRoots(settings.directory, ctx.policy);
        const name = fillTemplate(settings.filename, envelope, ctx.itemName) || envelope.header.messageId;
        let target = path.join(dir, name);
        if (path.dirname(target) !== dir) throw new EngineError('file.bad_name', `file name "${name}" leaves the directory`, 'user');
        if (!settings.overwrite) {
          const ext = path.extname(target);
          const base = target.slice(0, target.length - ext.length);
          for (let i = 1; await exists(target); i++) target = `${base}-${i}${ext}`;
        }
        // Sandbox: the path and the bytes it would write, and nothing written (not even the folder).
        if (ctx.dryRun) return ctx.dryRun.wouldSend(target, envelope.body.raw);
        // A temp file (O_EXCL: never written through something planted there), then renamed: the mode stays for the target.
        await writeFileAtomic(target, envelope.body.raw, FILE_MODE);
        written++;
      },
      info() {
        return { directory: dir, written };
      },
    };
  },
});
