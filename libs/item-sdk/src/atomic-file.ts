import { randomBytes } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `bytes` to `target` atomically: into a hidden temporary file beside it (created with
 * O_EXCL, so nothing planted at that name is written through), flushed, then renamed over the
 * target — a reader never sees half a file. `mode` applies to the new file.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array, mode = 0o640): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target);
}
