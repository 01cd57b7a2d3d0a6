import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileOutSettings } from '@hie/config';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { DIR_MODE, FILE_MODE } from './file-modes';
import { fillTemplate } from './template';

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
 * file, flushed, then renamed, so a reader never sees half a message.
 */
export const fileOut = defineItemType({
  type: 'file.out',
  version: 1,
  kind: 'operation',
  description: 'Write each message to a file (atomic)',
  settings: fileOutSettings,
  module: import.meta.url,
  create(settings, ctx) {
    const dir = path.resolve(settings.directory);
    let written = 0;
    return {
      async onStart() {
        await mkdir(dir, { recursive: true, mode: DIR_MODE });
      },
      async onMessage(envelope) {
        const name = fillTemplate(settings.filename, envelope, ctx.itemName) || envelope.header.messageId;
        let target = path.join(dir, name);
        if (path.dirname(target) !== dir) throw new EngineError('file.bad_name', `file name "${name}" leaves the directory`, 'user');
        if (!settings.overwrite) {
          const ext = path.extname(target);
          const base = target.slice(0, target.length - ext.length);
          for (let i = 1; await exists(target); i++) target = `${base}-${i}${ext}`;
        }
        const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
        const fh = await open(tmp, 'w', FILE_MODE); // the rename keeps it: the target gets this mode
        try {
          await fh.writeFile(envelope.body.raw);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, target);
        written++;
      },
      info() {
        return { directory: dir, written };
      },
    };
  },
});
