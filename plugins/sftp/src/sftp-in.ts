import path from 'node:path/posix';
import type SftpClient from 'ssh2-sftp-client';
import { compileUserRegex, createPoller, defineItemType, ensureError, stamp, submitFileMessages } from '@hie/item-sdk';
import { checkConnectionSettings, openSftp } from './connection';
import { sftpInSettings } from './settings';

/**
 * `sftp.in`: polls a remote folder over SFTP. Each poll opens a fresh session (a dropped
 * connection costs one poll, never a stuck item). A file is read whole, every message in it is
 * handed on (and stored) first, and only then is it deleted, archived or moved: a connection
 * that drops part-way leaves the file on the server for the next poll (at-least-once; a file
 * whose messages were all handed on but whose removal failed is read again). Files modified within
 * `minAgeMs` are skipped (still being written); names are matched with RE2 (`pattern`), never a
 * backtracking regex. A file with no HL7 message in it is refused (stored as `refused`) and
 * moved to `<remoteDirectory>/.error`.
 */
export const sftpIn = defineItemType({
  type: 'sftp.in',
  version: 1,
  kind: 'service',
  description: 'Poll a remote SFTP folder for message files (batch files split)',
  settings: sftpInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    const compiled = compileUserRegex(settings.pattern);
    const matches = compiled.ok ? (name: string) => compiled.regex.test(name) : () => false;
    const archiveDir = settings.archiveDirectory || path.join(settings.remoteDirectory, '.archive');
    const errorDir = path.join(settings.remoteDirectory, '.error');
    let files = 0;
    let messages = 0;
    let lastError: string | undefined;

    async function finish(sftp: SftpClient, name: string, full: string): Promise<void> {
      if (settings.afterProcess === 'delete') await sftp.delete(full);
      else if (settings.afterProcess === 'move') {
        await sftp.mkdir(settings.moveDirectory, true);
        await sftp.rename(full, path.join(settings.moveDirectory, name));
      } else {
        await sftp.mkdir(archiveDir, true);
        await sftp.rename(full, path.join(archiveDir, `${stamp(Date.now())}_${name}`));
      }
    }

    async function poll(): Promise<void> {
      let sftp: SftpClient | undefined;
      try {
        sftp = await openSftp(settings, ctx, 'sftp.in');
        const listing = await sftp.list(settings.remoteDirectory);
        const now = Date.now();
        const due = listing
          .filter((f) => f.type === '-' && !f.name.startsWith('.') && matches(f.name))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        let taken = 0;
        for (const f of due) {
          if (poller.stopped || taken >= settings.maxFilesPerPoll) break;
          if (now - f.modifyTime < settings.minAgeMs) continue;
          if (f.size > settings.maxFileBytes) {
            ctx.log.warn({ file: f.name, size: f.size, maxFileBytes: settings.maxFileBytes }, 'file larger than maxFileBytes: left on the server');
            continue;
          }
          taken++;
          const full = path.join(settings.remoteDirectory, f.name);
          const bytes = (await sftp.get(full)) as Buffer;
          const r = await submitFileMessages(ctx, bytes, f.name, settings);
          if (r.kind === 'refused') {
            await sftp.mkdir(errorDir, true);
            await sftp.rename(full, path.join(errorDir, f.name));
            continue;
          }
          await finish(sftp, f.name, full);
          files++;
          messages += r.messages;
        }
        lastError = undefined;
      } catch (e) {
        const err = ensureError(e);
        // Logged once per distinct failure: a server that is down must not flood the log every poll.
        if (err.message !== lastError) ctx.log.warn({ err, host: settings.host, dir: settings.remoteDirectory }, 'sftp poll failed; retrying at the next poll');
        lastError = err.message;
      } finally {
        await sftp?.end().catch(() => undefined);
      }
    }

    const poller = createPoller(poll, settings.pollIntervalMs);

    return {
      onStart() {
        // Bad settings stop the start; an unreachable server does not (the poll retries).
        checkConnectionSettings(settings, 'sftp.in');
        poller.start();
      },
      async onStop() {
        await poller.stop();
      },
      info: () => ({ host: settings.host, remoteDirectory: settings.remoteDirectory, files, messages, ...(lastError ? { lastError } : {}) }),
    };
  },
});
