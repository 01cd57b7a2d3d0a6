import { randomBytes } from 'node:crypto';
import path from 'node:path/posix';
import type SftpClient from 'ssh2-sftp-client';
import { defineItemType, fillTemplate, HieError } from '@hie/item-sdk';
import { checkConnectionSettings, openSftp } from './connection';
import { sftpOutSettings } from './settings';

/**
 * `sftp.out`: uploads each message as one remote file. Atomic: written under a hidden temporary
 * name, then renamed, so a reader polling the folder never sees half a message — a connection
 * that drops mid-upload leaves at most a `.…tmp` file, and the message fails (retryable) to be
 * sent again over a new connection. One session is kept between messages and reopened after
 * any error.
 */
export const sftpOut = defineItemType({
  type: 'sftp.out',
  version: 1,
  kind: 'operation',
  description: 'Upload each message as a file over SFTP (atomic)',
  settings: sftpOutSettings,
  module: import.meta.url,
  create(settings, ctx) {
    let session: Promise<SftpClient> | undefined;
    let uploaded = 0;

    const drop = async () => {
      const s = session;
      session = undefined;
      await s?.then((c) => c.end()).catch(() => undefined);
    };

    return {
      onStart() {
        checkConnectionSettings(settings, 'sftp.out');
      },
      async onMessage(envelope) {
        const name = fillTemplate(settings.filename, envelope, ctx.itemName) || envelope.header.messageId;
        if (name.includes('/') || name === '.' || name === '..') throw new HieError('sftp.out.bad_name', `file name "${name}" leaves the remote folder`, { kind: 'user' });
        const target = path.join(settings.remoteDirectory, name);
        const tmp = path.join(settings.remoteDirectory, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
        session ??= openSftp(settings, ctx, 'sftp.out');
        try {
          const sftp = await session;
          await sftp.put(Buffer.from(envelope.body.raw), tmp);
          await sftp.rename(tmp, target);
          uploaded++;
        } catch (e) {
          // A broken session is not reused; a half-written temp file is removed when the server is still there.
          const sftp = await session?.catch(() => undefined);
          await sftp?.delete(tmp, true).catch(() => undefined);
          await drop();
          throw e instanceof HieError ? e : new HieError('sftp.out.upload', `upload of ${name} to ${settings.host} failed: ${(e as Error).message}`, { kind: 'operational', cause: e });
        }
      },
      async onStop() {
        await drop();
      },
      info: () => ({ host: settings.host, remoteDirectory: settings.remoteDirectory, uploaded }),
    };
  },
});
