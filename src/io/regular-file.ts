/**
 * Reading the files of a model directory, a checkpoint or a weights file: regular files
 * only. A FIFO there made a load wait forever for a writer, and a link to /dev/zero or
 * /dev/urandom read until memory ran out (~300 MB/s); a directory of someone else's making
 * (a tarball, a shared folder) can hold either. Errors keep Node's codes (ENOENT, EISDIR, …);
 * anything else that is not a regular file is ERR_RNNKIT_NOT_A_FILE.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** What a non-regular file is, for the message. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

/** Throws unless `file` (followed through links) is a regular file or a directory (which reading reports as EISDIR). */
export async function requireRegularFile(file: string): Promise<void> {
  const st = await stat(file);
  if (st.isFile() || st.isDirectory()) return;
  throw Object.assign(new Error(`${file} is a ${kindOf(st)}, not a regular file: refusing to read it`), { code: 'ERR_RNNKIT_NOT_A_FILE' });
}

/** The bytes of `file`, a regular file. */
export async function readRegularFile(file: string): Promise<Buffer>;
export async function readRegularFile(file: string, encoding: 'utf8'): Promise<string>;
export async function readRegularFile(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  await requireRegularFile(file);
  return encoding ? readFile(file, encoding) : readFile(file);
}
