import { constants } from 'node:fs';
import { chmod, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileInSettings } from '@hie/config';
import { ensureFolderInsideRoots, resolveInsideRoots } from '@hie/policy';
import { createPoller, stamp, submitFileMessages } from '@hie/item-sdk';
import { defineItemType } from '../item-type';
import { ensureError } from '../runtime/errors';
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
 *
 * A file with no HL7 message in it (HL7 content type, no MSH segment) is stored as a `refused`
 * message (its first `refusedMaxBytes`), logged, and moved to the error directory.
 *
 * Host policy: the folders must lie under HIE_FILE_ROOTS after realpath (checked at start and
 * before every move), and a symlink in the drop folder is never followed (it could point at any
 * file the engine can read, which would then be shown in the message viewer and moved).
 */
export const fileIn = defineItemType({
  type: 'file.in',
  version: 1,
  kind: 'service',
  description: 'Poll a directory for message files (batch files split)',
  settings: fileInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    // Real paths, set at start (after the policy check); relative settings resolve against the first root.
    let dir = '';
    const archiveSetting = () => settings.archiveDirectory || path.join(dir, '.archive');
    const errorSetting = () => settings.errorDirectory || path.join(dir, '.error');
    const warnedLinks = new Set<string>();
    const pattern = globToRegExp(settings.glob);
    let files = 0;
    let messages = 0;

    async function processFile(file: string): Promise<void> {
      const full = path.join(dir, file);
      // O_NOFOLLOW: a file swapped for a symlink after the lstat is refused (ELOOP), not read.
      const fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
      let bytes: Buffer;
      try {
        bytes = await fh.readFile();
      } finally {
        await fh.close();
      }
      const r = await submitFileMessages(ctx, bytes, file, settings);
      if (r.kind === 'refused') {
        // Not HL7 (no MSH in it): kept as a refused message, then moved aside, never lost silently.
        await rename(full, path.join(await ensureFolderInsideRoots(errorSetting(), ctx.policy, DIR_MODE), file));
        return;
      }
      messages += r.messages;
      if (settings.afterProcess === 'delete') await unlink(full);
      else {
        const archived = path.join(await ensureFolderInsideRoots(archiveSetting(), ctx.policy, DIR_MODE), `${stamp(Date.now())}_${file}`);
        await rename(full, archived);
        // Best effort: a file we do not own keeps its mode (the sender chose it), and is archived anyway.
        await chmod(archived, FILE_MODE).catch(() => undefined);
      }
      files++;
    }

    async function poll(): Promise<void> {
      let names: string[];
      try {
        // Resolved every poll: a folder (or parent) swapped for a symlink out of the roots is refused.
        dir = await resolveInsideRoots(settings.directory, ctx.policy);
        names = await readdir(dir);
      } catch (e) {
        ctx.log.warn({ err: ensureError(e), dir }, 'cannot read the input directory');
        return;
      }
      let taken = 0;
      for (const name of names.sort()) {
        if (poller.stopped || taken >= settings.maxFilesPerPoll) break;
        if (name.startsWith('.') || !pattern.test(name)) continue;
        const full = path.join(dir, name);
        try {
          const st = await lstat(full);
          if (st.isSymbolicLink()) {
            if (!warnedLinks.has(name)) ctx.log.warn({ file: name, dir }, 'skipping a symlink in the input directory (never followed)');
            warnedLinks.add(name);
            continue;
          }
          if (!st.isFile() || Date.now() - st.mtimeMs < settings.minAgeMs) continue;
          taken++;
          await processFile(name);
        } catch (e) {
          const err = ensureError(e);
          const code = (err as { code?: string }).code;
          if (code === 'ENOENT') continue; // taken by someone else
          ctx.log.error({ err, file: name }, 'file processing failed');
          if (code === 'EACCES' || code === 'EISDIR') {
            await ensureFolderInsideRoots(errorSetting(), ctx.policy, DIR_MODE)
              .then((errorDir) => rename(full, path.join(errorDir, name)))
              .catch((e2: unknown) => ctx.log.error({ err: ensureError(e2), file: name }, 'cannot move the file to the error directory'));
          }
          // Otherwise (downstream refused): the file stays and is retried next poll.
        }
      }
    }

    const poller = createPoller(poll, settings.pollIntervalMs);

    return {
      async onStart() {
        dir = await ensureFolderInsideRoots(settings.directory, ctx.policy, DIR_MODE);
        // Refuse archive/error folders outside the roots now, not at the first file.
        await resolveInsideRoots(archiveSetting(), ctx.policy);
        await resolveInsideRoots(errorSetting(), ctx.policy);
        poller.start();
      },
      async onStop() {
        await poller.stop();
      },
      info() {
        return { directory: dir, files, messages };
      },
    };
  },
});
