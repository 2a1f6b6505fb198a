/**
 * `mkdir -p` (Node) without Node's `mkdir(dir, { recursive: true })`, which never returns
 * where a parent exists but reports ENOENT for every child: a path under /proc or /sys, or
 * under a link to nothing (an unmounted disk). Node's walk takes that ENOENT for "the parent
 * is missing", makes the parent (EEXIST), retries the child, and spins at 100% CPU forever
 * (the promise never settles; the sync form freezes the event loop) — `rnnkit train --out
 * /proc/x/m` hung that way after training. Here each missing directory is made in turn,
 * top down, and the first failure is an error naming the directory.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

/** Make `dir` and its missing parents; an existing directory is fine. */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; ) {
    const st = await stat(at).catch((e: unknown) => {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined; // missing, or under a file: found going up
      throw e;
    });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`cannot make directory ${dir}: ${at} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if (code(e) === 'EEXIST' && (await stat(d).catch(() => undefined))?.isDirectory()) continue; // made meanwhile
      const why = code(e) === 'EEXIST' ? 'a link to nothing or another entry is in the way' : (e as Error).message;
      throw Object.assign(new Error(`cannot make directory ${dir}: ${d}: ${why}`), { code: code(e), cause: e });
    }
  }
}
