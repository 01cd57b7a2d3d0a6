import { chmod, mkdir, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileInSettings } from '@hie/config';
import { splitBatch } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { envelopeFor, isHl7 } from '../runtime/envelopes';
import { ensureError } from '../runtime/errors';
import { stamp } from './template';
import { DIR_MODE, FILE_MODE } from './file-modes';

/** `*` and `?` wildcards → an anchored RegExp (no other syntax, so no user regex). */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}


/**
 * `file.in`: polls a directory. Files modified within `minAgeMs` are skipped (still being written).
 * Every message of a file is handed on (and stored) before the file is archived or deleted; a file
 * that fails part-way stays for the next poll (at-least-once) unless it is unreadable, then it
 * goes to the error directory.
 */
export const fileIn = defineItemType({
  type: 'file.in',
  version: 1,
  kind: 'service',
  description: 'Poll a directory for message files (batch files split)',
  settings: fileInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    const dir = path.resolve(settings.directory);
    const archiveDir = path.resolve(settings.archiveDirectory || path.join(dir, '.archive'));
    const errorDir = path.resolve(settings.errorDirectory || path.join(dir, '.error'));
    const pattern = globToRegExp(settings.glob);
    let timer: NodeJS.Timeout | undefined;
    let polling: Promise<void> | undefined;
    let stopped = false;
    let files = 0;
    let messages = 0;

    async function processFile(file: string): Promise<void> {
      const full = path.join(dir, file);
      const bytes = await readFile(full);
      const parts = isHl7(settings.contentType) && settings.splitBatch ? splitBatch(bytes.toString('utf8')) : [bytes];
      for (const part of parts) {
        const raw = typeof part === 'string' ? new TextEncoder().encode(part) : new Uint8Array(part);
        const envelope = envelopeFor(raw, settings.contentType, ctx.itemName);
        envelope.header.customProperties.file = file;
        await ctx.submit(envelope, { wait: ctx.hasStore ? 'stored' : 'queued' });
        messages++;
      }
      if (settings.afterProcess === 'delete') await unlink(full);
      else {
        await mkdir(archiveDir, { recursive: true, mode: DIR_MODE });
        const archived = path.join(archiveDir, `${stamp(Date.now())}_${file}`);
        await rename(full, archived);
        // Best effort: a file we do not own keeps its mode (the sender chose it), and is archived anyway.
        await chmod(archived, FILE_MODE).catch(() => undefined);
      }
      files++;
    }

    async function poll(): Promise<void> {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        ctx.log.warn({ err: ensureError(e), dir }, 'cannot read the input directory');
        return;
      }
      let taken = 0;
      for (const name of names.sort()) {
        if (stopped || taken >= settings.maxFilesPerPoll) break;
        if (name.startsWith('.') || !pattern.test(name)) continue;
        const full = path.join(dir, name);
        try {
          const st = await stat(full);
          if (!st.isFile() || Date.now() - st.mtimeMs < settings.minAgeMs) continue;
          taken++;
          await processFile(name);
        } catch (e) {
          const err = ensureError(e);
          const code = (err as { code?: string }).code;
          if (code === 'ENOENT') continue; // taken by someone else
          ctx.log.error({ err, file: name }, 'file processing failed');
          if (code === 'EACCES' || code === 'EISDIR') {
            await mkdir(errorDir, { recursive: true, mode: DIR_MODE }).catch(() => undefined);
            await rename(full, path.join(errorDir, name)).catch(() => undefined);
          }
          // Otherwise (downstream refused): the file stays and is retried next poll.
        }
      }
    }

    function schedule() {
      if (stopped) return;
      timer = setTimeout(() => {
        polling = poll().finally(schedule);
      }, settings.pollIntervalMs);
    }

    return {
      async onStart() {
        stopped = false;
        await mkdir(dir, { recursive: true, mode: DIR_MODE });
        polling = poll().finally(schedule);
      },
      async onStop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        await polling;
      },
      info() {
        return { directory: dir, files, messages };
      },
    };
  },
});
