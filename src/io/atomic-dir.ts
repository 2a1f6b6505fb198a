/**
 * A directory whose files change together (Node): a model's config.json and
 * model.safetensors, a checkpoint's files. A save makes ALL of them current with ONE
 * atomic rename; a reader sees the files of one save, never a mix, whenever it reads and
 * wherever a writer was killed.
 *
 * Layout after a save of files F into `dir`:
 *
 *     dir/.rnnkit/m-<pid>-<id>/F…            one directory per save, written and fsync'd whole
 *     dir/.rnnkit/current -> m-<pid>-<id>    the commit: a fresh symlink renamed over the old
 *     dir/<f> -> .rnnkit/current/<f>         for each f in F: fixed links through `current`
 *
 * Why this one. The alternatives were (a) files written side by side, each atomically (what
 * rnnkit did: a kill between the two renames leaves one file of each save); (b) a manifest
 * file naming the current version, renamed in (then `dir/config.json` is either missing for
 * outsiders or a copy that cannot switch together with the weights); (c) `dir` itself a
 * symlink to a version directory (then `dir` cannot be a plain directory the user created,
 * and renaming over a user's directory is impossible). Here `dir` stays the directory the
 * user named; the top-level names are relative symlinks that never change once made, so
 * PyTorch users, `cp -r`, `tar` and anything that opens `dir/model.safetensors` see real
 * files of the current save; the only thing a save switches is `.rnnkit/current`, and
 * rename(2) of a symlink over a symlink is atomic. Old saves are deleted after the switch.
 *
 * Reading: a reader resolves `current` once and reads every file from that version
 * directory. If a concurrent save deleted that version meanwhile (ENOENT), it resolves
 * again. It uses the versions only when every top-level name is still rnnkit's link; if
 * someone replaced one by a real file (an editor, PyTorch), or the directory was made by
 * older rnnkit, PyTorch or by hand, the top-level files are read as they are.
 *
 * Saving over a directory whose top-level files are real files (older rnnkit, by hand)
 * first makes those files a version of their own (hard links: no copying), commits it and
 * replaces each top-level file by a link into it — switches that change no content — and
 * then saves as usual; a kill at any point leaves a directory that reads as one save.
 *
 * Without symlinks (Windows without developer mode, FAT): `current` is a small file naming
 * the version, renamed in the same way, and the top-level names are copies written after
 * the commit (for outsiders only; rnnkit reads through `current`, so a replaced top-level
 * file is not read in that mode).
 *
 * Leftovers of a killed save (`m-…` and `l-…` entries of a process that no longer runs,
 * and the `.<file>.<pid>.….tmp` files of older rnnkit) are deleted by the next save.
 * Entries of another live process are left alone for an hour (it may be saving right now);
 * two processes saving into one directory at the same moment is not supported (the last
 * commit wins; the loser's save may fail). Saves of one process into one directory are
 * queued.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, lstat, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { readRegularFile, requireRegularFile } from './regular-file.js';
import path from 'node:path';
import { makeDirectory } from './make-dir.js';

/** The directory of versions inside a unit directory. */
export const STORE = '.rnnkit';
/** The pointer inside {@link STORE}. */
export const CURRENT = 'current';
/** m: a version directory; l: a link or pointer file before it is renamed into place. */
const ENTRY = /^([ml])-(\d+)-([0-9a-z]+)$/;
/** Entries of another live process older than this are taken as abandoned. */
const ABANDONED_MS = 60 * 60 * 1000;
/** The temporary files of writeFileAtomic (older rnnkit wrote model files with it). */
const OLD_TEMP = /^\.(.+)\.(\d+)\.\d+\.[0-9a-z]+\.tmp$/;

/** Options of {@link writeUnit}. */
export interface WriteUnitOptions {
  /** false: the pointer-file layout even where symlinks work (for tests). Default: symlinks when the file system has them. */
  symlinks?: boolean;
  /**
   * Runs first, inside this directory's queue, and a rejection refuses the save: a check of
   * the directory must wait for the saves queued before it, or a slow check would let a later
   * save commit first (the queue is in call order only if nothing awaits before joining it).
   */
  before?: () => Promise<void>;
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

/** Whether process `pid` runs (a process of another user counts as running). */
export function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}

/** Names of entries this process is writing now (never cleaned while listed). */
const active = new Set<string>();
/** The save of each directory in progress in this process (saves of one directory are queued). */
const queues = new Map<string, Promise<unknown>>();

function entryName(kind: 'm' | 'l'): string {
  return `${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** The link target of top-level file `name`. */
function linkTarget(name: string): string {
  return path.join(STORE, CURRENT, name);
}

/** fsync a directory, so the entries made in it are durable. Windows cannot: its renames are atomic still. */
async function syncDir(dir: string): Promise<void> {
  let h;
  try {
    h = await open(dir, 'r');
    await h.sync();
  } catch {
    // EISDIR / EPERM on Windows, EINVAL on some file systems: nothing more to do.
  } finally {
    await h?.close().catch(() => undefined);
  }
}

async function writeSynced(file: string, data: Uint8Array | string): Promise<void> {
  const h = await open(file, 'wx');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

async function copySynced(from: string, to: string): Promise<void> {
  await requireRegularFile(from);  // copying a FIFO waits for a writer, /dev/zero never ends
  await copyFile(from, to);
  const h = await open(to, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** What `current` is: a symlink or a pointer file naming a version, a directory (a copy made with cp -L), or nothing. */
type Pointer = { kind: 'link' | 'file'; target: string } | { kind: 'dir' | 'none' };

async function readPointer(store: string): Promise<Pointer> {
  const at = path.join(store, CURRENT);
  let st;
  try {
    st = await lstat(at);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return { kind: 'none' };
    throw e;
  }
  if (st.isDirectory()) return { kind: 'dir' };
  const kind = st.isSymbolicLink() ? 'link' : 'file';
  const target = kind === 'link' ? await readlink(at) : (await readRegularFile(at, 'utf8')).trim();
  if (!ENTRY.test(target) || target[0] !== 'm') throw new Error(`${at} must name a version directory m-<pid>-<id> of ${store}; it names ${JSON.stringify(target)}`);
  return { kind, target };
}

/** How top-level `name` stands: rnnkit's link into `current`, absent, or something else (a real file, someone's link). */
async function topLevel(dir: string, name: string): Promise<'ours' | 'absent' | 'other'> {
  try {
    const st = await lstat(path.join(dir, name));
    return st.isSymbolicLink() && path.normalize(await readlink(path.join(dir, name))) === linkTarget(name) ? 'ours' : 'other';
  } catch (e) {
    if (errno(e) === 'ENOENT') return 'absent';
    throw e;
  }
}

/** Whether each top-level `name` is rnnkit's link into `current`. */
async function allLinked(dir: string, names: string[]): Promise<boolean> {
  for (const name of names) if ((await topLevel(dir, name)) !== 'ours') return false;
  return true;
}

/** Delete what killed or failed saves left: best effort (a file another process holds open on Windows stays). */
async function cleanLeftovers(dir: string, store: string, names: string[], keep: string | undefined): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(store).catch(() => [] as string[])) {
    const m = ENTRY.exec(entry);
    if (!m || entry === keep || active.has(entry)) continue;
    const pid = Number(m[2]);
    let stale = pid === process.pid || !isRunning(pid);
    if (!stale) {
      const st = await lstat(path.join(store, entry)).catch(() => undefined);
      stale = st !== undefined && now - st.mtimeMs > ABANDONED_MS;
    }
    if (stale) await rm(path.join(store, entry), { recursive: true, force: true }).catch(() => undefined);
  }
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const m = OLD_TEMP.exec(entry);
    if (m && names.includes(m[1]) && !isRunning(Number(m[2]))) await rm(path.join(dir, entry), { force: true }).catch(() => undefined);
  }
}

/** Can this file system hold symlinks? (Windows without developer mode cannot; nor can FAT.) */
async function symlinksWork(store: string): Promise<boolean> {
  const probe = path.join(store, entryName('l'));
  try {
    await symlink('probe', probe);
  } catch (e) {
    if (['EPERM', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL', 'EACCES'].includes(errno(e) ?? '')) return false;
    throw e;
  }
  await rm(probe, { force: true });
  return true;
}

/** Put `make(tmp)`'s result at `dest` by one rename; `tmp` is an `l-` entry of the store. */
async function renameIn(store: string, dest: string, make: (tmp: string) => Promise<void>): Promise<void> {
  const tmpName = entryName('l');
  const tmp = path.join(store, tmpName);
  active.add(tmpName);
  try {
    await make(tmp);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  } finally {
    active.delete(tmpName);
  }
}

/** THE commit: `current` names `version` after one rename. */
async function commit(store: string, version: string, links: boolean): Promise<void> {
  await renameIn(store, path.join(store, CURRENT), (tmp) => (links ? symlink(version, tmp) : writeSynced(tmp, version + '\n')));
  await syncDir(store);
}

/** A new version directory holding `files`, fsync'd (files, the directory, its entry in the store). */
async function writeVersion(store: string, fill: (at: string) => Promise<void>): Promise<string> {
  const name = entryName('m');
  const at = path.join(store, name);
  active.add(name);
  try {
    await mkdir(at);
    await fill(at);
    await syncDir(at);
    await syncDir(store);
    return name;
  } catch (e) {
    active.delete(name);
    await rm(at, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

async function writeUnitNow(dir: string, files: Record<string, Uint8Array | string>, options: WriteUnitOptions): Promise<void> {
  const names = Object.keys(files);
  for (const n of names) if (n !== path.basename(n) || n === STORE || n.startsWith('.')) throw new RangeError(`file name ${JSON.stringify(n)} must be a plain name`);
  const store = path.join(dir, STORE);
  await makeDirectory(store);
  let pointer = await readPointer(store);
  if (pointer.kind === 'dir') {
    // A copy made by following links (cp -L): readers read the top-level files, which it holds too.
    await rm(path.join(store, CURRENT), { recursive: true, force: true });
    pointer = { kind: 'none' };
  }
  await cleanLeftovers(dir, store, names, 'target' in pointer ? pointer.target : undefined);
  const links = options.symlinks !== false && (await symlinksWork(store));
  const made: string[] = [];
  try {
    if (links && !(await allLinked(dir, names))) {
      // Top-level real files (older rnnkit, by hand, replaced by someone): make them links
      // into a version holding what the names show now (real files, or through `current`
      // for those that are links), so no reader sees a change; then save.
      const seen = new Map<string, string>();
      let other = false;
      for (const n of names) {
        const st = await lstat(path.join(dir, n)).catch(() => undefined);
        if (st?.isDirectory()) throw new Error(`${path.join(dir, n)} is a directory; a save would put a file there`);
        const t = await topLevel(dir, n);
        other ||= t === 'other';
        const from = t === 'ours' && 'target' in pointer ? path.join(store, pointer.target, n) : path.join(dir, n);
        if (t !== 'absent' && (await lstat(from).catch(() => undefined))) seen.set(n, from);
      }
      if (pointer.kind === 'file') {
        // Saved where symlinks did not work: `current` names a whole save already; make it a link.
        await commit(store, pointer.target, true);
      } else if (other) {
        const old = await writeVersion(store, async (at) => {
          for (const [n, from] of seen) {
            // A hard link keeps the bytes without copying; a symlink of someone else is followed.
            if ((await lstat(from)).isFile()) await link(from, path.join(at, n)).catch(() => copySynced(from, path.join(at, n)));
            else await copySynced(from, path.join(at, n));
          }
        });
        made.push(old);
        await commit(store, old, true);
      }
      // Every name a link BEFORE the commit: a link through `current` shows what the current
      // save has (a name it lacks reads as absent), so a reader never meets a save's file
      // without its link.
      for (const n of names) if ((await topLevel(dir, n)) !== 'ours') await renameIn(store, path.join(dir, n), (tmp) => symlink(linkTarget(n), tmp));
      await syncDir(dir);
    }
    const version = await writeVersion(store, async (at) => {
      for (const n of names) await writeSynced(path.join(at, n), files[n]);
    });
    made.push(version);
    await commit(store, version, links);
    if (!links) {
      // Copies for outsiders, each atomic; rnnkit reads through `current`.
      for (const n of names) await renameIn(store, path.join(dir, n), (tmp) => writeSynced(tmp, files[n]));
      await syncDir(dir);
    }
    // Links of files an earlier save had and this one has not would lead nowhere now.
    for (const entry of await readdir(dir)) {
      if (names.includes(entry)) continue;
      const st = await lstat(path.join(dir, entry)).catch(() => undefined);
      if (st?.isSymbolicLink() && path.normalize(await readlink(path.join(dir, entry)).catch(() => '')) === linkTarget(entry)) {
        await rm(path.join(dir, entry), { force: true }).catch(() => undefined);
      }
    }
    for (const m of made) active.delete(m);
    await cleanLeftovers(dir, store, names, version);
  } finally {
    for (const m of made) active.delete(m);
  }
}

/**
 * Make `files` (name → bytes or text) the current files of `dir`, all together, by one
 * atomic rename (see the module comment). `dir` and its parents are created.
 */
export async function writeUnit(dir: string, files: Record<string, Uint8Array | string>, options: WriteUnitOptions = {}): Promise<void> {
  const key = path.resolve(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await options.before?.();
    await writeUnitNow(dir, files, options);
  });
  queues.set(key, run);
  try {
    await run;
  } finally {
    if (queues.get(key) === run) queues.delete(key);
  }
}

/** A file of a unit that could not be read; `file` is its top-level path. */
export class UnitReadError extends Error {
  constructor(readonly file: string, cause: unknown) {
    super(`${file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'UnitReadError';
  }
}

/**
 * Read `names` of `dir`, all from one save: through `current` when every top-level name is
 * rnnkit's link, else the top-level files as they are (older rnnkit, PyTorch, by hand). A
 * file that cannot be read is a {@link UnitReadError} naming its top-level path. Files of
 * `optional` are read from the same save when it has them (and their top-level link is
 * there: a link someone deleted is a file deleted), and are absent from the result when not.
 */
export async function readUnit(dir: string, names: string[], optional: string[] = []): Promise<Map<string, Buffer>> {
  const store = path.join(dir, STORE);
  const currentTarget = async (): Promise<string | undefined> => {
    const p = await readPointer(store);
    return 'target' in p ? p.target : undefined;
  };
  for (let attempt = 0; ; attempt++) {
    const pointer = await readPointer(store);
    const target = 'target' in pointer ? pointer.target : undefined;
    let versioned = pointer.kind === 'file' || (pointer.kind === 'link' && (await allLinked(dir, names)));
    const absent = new Set<string>();
    if (versioned && pointer.kind === 'link') {
      for (const n of optional) {
        const t = await topLevel(dir, n);
        if (t === 'other') versioned = false;
        else if (t === 'absent') absent.add(n);
      }
    }
    const base = versioned ? path.join(store, target!) : dir;
    const out = new Map<string, Buffer>();
    let failed: UnitReadError | undefined;
    let skipped = false;
    for (const n of [...names, ...optional]) {
      if (versioned && absent.has(n)) continue;
      try {
        out.set(n, await readRegularFile(path.join(base, n)));
      } catch (e) {
        if (optional.includes(n) && errno(e) === 'ENOENT') {
          skipped = true;
          continue;
        }
        failed = new UnitReadError(path.join(dir, n), e);
        break;
      }
    }
    // Versions never change once committed: a versioned read that succeeded is one save.
    if (versioned && !failed && !skipped) return out;
    // Otherwise (or if an optional file was missing: deleted, or never there?), if a save committed while we read (its cleanup may have deleted what we were
    // reading; the top-level files may now lead to another save), read again.
    const moved = (await currentTarget().catch(() => undefined)) !== target;
    if (moved && attempt < 20) continue;
    if (failed) throw failed;
    return out;
  }
}
