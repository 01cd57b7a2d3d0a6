import { z } from 'zod';
import { refusedMaxBytes } from './refused';

/** Settings of `file.in`: poll a directory. */
export const fileInSettings = z
  .object({
    directory: z.string().min(1).describe('Directory to poll'),
    glob: z.string().default('*').describe('File name pattern (* and ? wildcards, e.g. *.hl7)'),
    pollIntervalMs: z.number().int().min(10).default(1000).describe('How often to look for new files'),
    minAgeMs: z.number().int().min(0).default(500).describe('Skip files modified more recently than this (still being written)'),
    afterProcess: z.enum(['delete', 'archive']).default('archive').describe('What to do with a file once every message in it is handed on'),
    archiveDirectory: z.string().default('').describe('Where archived files go (default: <directory>/.archive)'),
    errorDirectory: z.string().default('').describe('Where unreadable files go (default: <directory>/.error)'),
    splitBatch: z.boolean().default(true).describe('Split HL7 batch files (FHS/BHS) and multi-message files into one message each'),
    contentType: z.string().default('application/hl7-v2+er7').describe('Content type of the files'),
    maxFilesPerPoll: z.number().int().min(1).default(100).describe('Most files picked up per poll'),
    refusedMaxBytes,
  })
  .strict();
export type FileInSettings = z.output<typeof fileInSettings>;

/** Settings of `file.out`: write each message to a file. */
export const fileOutSettings = z
  .object({
    directory: z.string().min(1).describe('Directory to write into (created if missing)'),
    filename: z
      .string()
      .default('{timestamp}_{id}.hl7')
      .describe('File name template: {id}, {controlId}, {messageType}, {timestamp}, {date}, {item}, or any HL7 path like {PID-3.1}'),
    overwrite: z.boolean().default(false).describe('Replace an existing file with the same name (otherwise a suffix is added)'),
  })
  .strict();
export type FileOutSettings = z.output<typeof fileOutSettings>;
