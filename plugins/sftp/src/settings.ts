import { bindSecretsTo, checkUserRegex, secret, z } from '@hie/item-sdk';

const REFUSED_MAX_BYTES = 1024 * 1024;

/** How to reach and trust the SFTP server: shared by sftp.in and sftp.out. */
const connection = {
  host: z.string().min(1).describe('SFTP server host name or address (the egress policy applies)'),
  port: z.number().int().min(1).max(65535).default(22).describe('SSH port'),
  username: z.string().min(1).describe('User to log in as'),
  password: secret(z.string().default('')).describe('Password (leave empty to use a private key)'),
  privateKey: secret(z.string().default('')).describe('Private key in OpenSSH or PEM format (the key text, not a path)'),
  passphrase: secret(z.string().default('')).describe('Passphrase of the private key, if it has one'),
  hostFingerprint: z
    .string()
    .regex(/^(SHA256:[A-Za-z0-9+/]{43}=?)?$/, 'a SHA256 fingerprint as ssh-keygen -lf prints it: SHA256:<43 base64 characters>')
    .default('')
    .describe('The server host key\'s SHA256 fingerprint (ssh-keygen -lf <key>.pub); required: connections to any other key are refused'),
  connectTimeoutMs: z.number().int().min(100).default(10_000).describe('Give up connecting (TCP and SSH handshake) after this long'),
};

/** Secrets follow the server: changing where they go requires entering them again. */
const SECRETS_BOUND_TO = ['host', 'port', 'username', 'hostFingerprint'];

const remoteDirectory = z
  .string()
  .min(1)
  .refine((p) => p.startsWith('/'), 'an absolute remote path, e.g. /outbox')
  .describe('Remote folder (absolute path on the server)');

/** Settings of `sftp.in`: poll a remote folder. */
export const sftpInSettings = bindSecretsTo(
  z
    .object({
      ...connection,
      remoteDirectory,
      pattern: z
        .string()
        .default('')
        .superRefine((p, ctx) => {
          const why = checkUserRegex(p);
          if (why) ctx.addIssue({ code: 'custom', message: `not a valid pattern: ${why}` });
        })
        .describe('Regular expression (RE2 syntax) a file name must match, e.g. \\.hl7$; empty: every file'),
      pollIntervalMs: z.number().int().min(100).default(5000).describe('How often to look for new files'),
      minAgeMs: z.number().int().min(0).default(2000).describe('Skip files modified more recently than this (still being written)'),
      afterProcess: z
        .enum(['delete', 'archive', 'move'])
        .default('archive')
        .describe('Once every message of a file is handed on: delete it, archive it (time-stamped, in archiveDirectory) or move it (same name, into moveDirectory)'),
      archiveDirectory: z.string().default('').describe('Remote folder for archived files (default: <remoteDirectory>/.archive)'),
      moveDirectory: z.string().default('').describe('Remote folder files are moved to (afterProcess: move)'),
      splitBatch: z.boolean().default(true).describe('Split HL7 batch files (FHS/BHS) and multi-message files into one message each'),
      contentType: z.string().default('application/hl7-v2+er7').describe('Content type of the files'),
      maxFilesPerPoll: z.number().int().min(1).default(100).describe('Most files picked up per poll'),
      maxFileBytes: z.number().int().min(1).default(64 * 1024 * 1024).describe('Larger files are left on the server (logged)'),
      refusedMaxBytes: z.number().int().min(0).default(REFUSED_MAX_BYTES).describe('Most bytes kept of a file refused as holding no message'),
    })
    .strict()
    .refine((s) => s.afterProcess !== 'move' || s.moveDirectory.startsWith('/'), { path: ['moveDirectory'], message: 'afterProcess "move" needs an absolute moveDirectory' }),
  SECRETS_BOUND_TO,
);
export type SftpInSettings = z.output<typeof sftpInSettings>;

/** Settings of `sftp.out`: upload each message as a file. */
export const sftpOutSettings = bindSecretsTo(
  z
    .object({
      ...connection,
      remoteDirectory,
      filename: z
        .string()
        .min(1)
        .default('{timestamp}_{id}.hl7')
        .describe('File name template: {id}, {controlId}, {messageType}, {timestamp}, {date}, {item}, or an HL7 path like {PID-3.1}'),
    })
    .strict(),
  SECRETS_BOUND_TO,
);
export type SftpOutSettings = z.output<typeof sftpOutSettings>;
