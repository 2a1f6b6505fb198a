/**
 * safetensors files in Node: atomic writes (temp file + rename) and validated reads.
 */
import { open, readdir, rename, rm } from 'node:fs/promises';
import { readRegularFile } from './regular-file.js';
import path from 'node:path';
import { isRunning } from './atomic-dir.js';
import { makeDirectory } from './make-dir.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { SafetensorsContent, Tensor } from './safetensors.js';

/**
 * Write `data` to `file` atomically: into a temporary file in the same directory, flushed
 * to disk, then renamed over `file`. A crash leaves either the old file or the new one,
 * never a half-written one; the temporary files of writes killed earlier (of processes
 * that no longer run) are deleted. Parent directories are created.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await makeDirectory(dir);
  const prefix = `.${path.basename(file)}.`;
  for (const entry of await readdir(dir)) {
    const m = entry.startsWith(prefix) ? /^(\d+)\.\d+\.[0-9a-z]+\.tmp$/.exec(entry.slice(prefix.length)) : null;
    if (m && !isRunning(Number(m[1]))) await rm(path.join(dir, entry), { force: true }).catch(() => undefined);
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Encode and write atomically. */
export async function saveSafetensors(file: string, tensors: Tensor[], metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** A weights file's bytes; an error names the file (and, for a FIFO or device, what it is). */
export async function readWeightsBytes(file: string): Promise<Uint8Array> {
  const bytes = await readRegularFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ERR_RNNKIT_NOT_A_FILE') throw e;  // its message names the file and what it is
    throw Object.assign(new Error(`${file}: cannot read (${e.code ?? e.message})`, { cause: e }), { code: e.code });
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Read and decode (with every check of `decodeSafetensors`). */
export async function loadSafetensors(file: string): Promise<SafetensorsContent> {
  return decodeSafetensors(await readWeightsBytes(file), file);
}
