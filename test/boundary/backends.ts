/**
 * Shared helpers of the boundary suite (test/boundary/).
 *
 * Backends: RNNKIT_BACKENDS, comma-separated (CI: native,wasm,reference; default
 * reference). Every requested backend runs every test; a backend that does not load makes
 * its tests FAIL (createStack/createModel reject with the load error), never skip.
 *
 * Child processes: guarantees whose violation can abort or crash the process (use after
 * free, OOM, a finaliser that never runs, worker_threads) run in `node` child processes
 * on the built package (dist/src/index.js; `npx tsc -p tsconfig.build.json` builds it).
 * In-process tests import rnnkit only through the public entry ../../src/index.js.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBackend, type BackendName } from '../../src/index.js';
import { requestedBackends } from '../helpers/backends.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST_ENTRY = join(ROOT, 'dist/src/index.js');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** The backends named in RNNKIT_BACKENDS (default 'reference'): the suite-wide rule of test/helpers. */
export { requestedBackends };

/**
 * One `describe('backend <name>')` per requested backend, each with a "loads" test; the
 * body's tests create their stacks and models with `backend: name`, so they fail with the
 * load error if the backend does not load.
 */
export function forEachBackend(body: (backend: BackendName) => void): void {
  describe.each(requestedBackends())('backend %s', (name) => {
    it(`backend ${name} loads`, async () => {
      const b = await loadBackend(name as BackendName);
      expect(b.name).toBe(name);
    });
    body(name as BackendName);
  });
}

/** Deterministic values in [-scale, scale) (a small LCG; no Math.random in this suite). */
export function values(n: number, seed: number, scale = 0.5): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** Exact Float32 equality (Object.is per element), reporting the first difference only. */
export function expectSameFloats(actual: ArrayLike<number> | undefined, expected: ArrayLike<number> | undefined, label: string): void {
  if (expected === undefined) {
    expect(actual, `${label}: expected no array`).toBeUndefined();
    return;
  }
  expect(actual, `${label}: missing`).toBeDefined();
  const a = actual!;
  expect(a.length, `${label}: length`).toBe(expected.length);
  let first = -1;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(a[i], expected[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  expect(
    first,
    first < 0 ? label : `${label}: ${count} of ${expected.length} values differ; first at [${first}]: ${a[first]} instead of ${expected[first]}`,
  ).toBe(-1);
}

/** Every value finite. */
export function expectFinite(a: ArrayLike<number>, label: string): void {
  let bad = -1;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) { bad = i; break; }
  expect(bad, bad < 0 ? label : `${label}[${bad}] is ${a[bad]}`).toBe(-1);
}

/** A settled promise's outcome, so that assertions read the error instead of throwing it. */
export async function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A short description of a thrown value for assertion messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}${(e as { code?: unknown }).code ? ` [${String((e as { code?: unknown }).code)}]` : ''}: ${e.message}`;
  return `non-Error ${String(e)}`;
}

/** A TypeError or RangeError whose message matches `names`. */
export function expectArgumentError(e: unknown, names: RegExp, what: string): void {
  const ok = (e instanceof TypeError || e instanceof RangeError) && names.test(e.message);
  expect(ok, `${what}: expected a TypeError or RangeError whose message matches ${names}; got ${describeError(e)}`).toBe(true);
}

/** Fails with a clear message when dist/ is missing or older than src/ (child processes run dist/). */
export function requireFreshDist(): void {
  expect(existsSync(DIST_ENTRY), `${DIST_ENTRY} is missing: run npx tsc -p tsconfig.build.json`).toBe(true);
  const built = statSync(DIST_ENTRY).mtimeMs;
  let newest = 0;
  let newestFile = '';
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const m = statSync(p).mtimeMs;
        if (m > newest) [newest, newestFile] = [m, p];
      }
    }
  };
  walk(join(ROOT, 'src'));
  expect(newest <= built, `dist/ is older than ${newestFile}: run npx tsc -p tsconfig.build.json`).toBe(true);
}

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const tempDirs: string[] = [];
// Registered while a test file imports this module: removes that file's directories.
afterAll(() => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `rnnkit-boundary-${prefix}-`));
  tempDirs.push(d);
  return d;
}

/** Run `node [nodeArgs] file [args]`, killing it after `timeoutMs` (reported as timedOut + signal). */
export function runNode(
  file: string,
  options: { args?: string[]; nodeArgs?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), file, ...(options.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, ...(options.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout, stderr, timedOut });
    });
  });
}

/**
 * Run an ES module script in a child `node`. The script starts with
 * `const rnnkit = await import(<dist/src/index.js>)` and `const DIST = <that URL>`, and
 * reports by printing one line `RESULT <json>` (see {@link childResult}).
 */
export async function runScript(
  name: string,
  body: string,
  options: { args?: string[]; nodeArgs?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ChildResult> {
  requireFreshDist();
  const dir = tempDir(name);
  const file = join(dir, `${name}.mjs`);
  const url = pathToFileURL(DIST_ENTRY).href;
  writeFileSync(
    file,
    `const DIST = ${JSON.stringify(url)};\nconst rnnkit = await import(DIST);\n` +
      `const report = (v) => process.stdout.write('RESULT ' + JSON.stringify(v) + '\\n');\n` +
      body,
  );
  return runNode(file, options);
}

/** The `RESULT <json>` the child printed last; fails with the child's output when absent. */
export function childResult<T = Record<string, unknown>>(r: ChildResult): T {
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('RESULT '));
  expect(line, `the child printed no RESULT line\n${summary(r)}`).toBeDefined();
  return JSON.parse(line!.slice('RESULT '.length)) as T;
}

/** The child exited 0 by itself: no signal, no abort (134), no timeout. */
export function expectCleanExit(r: ChildResult, what: string): void {
  expect(r.timedOut, `${what}: timed out and was killed\n${summary(r)}`).toBe(false);
  expect(r.signal, `${what}: killed by a signal\n${summary(r)}`).toBeNull();
  expect(r.status, `${what}: exit code ${r.status}\n${summary(r)}`).toBe(0);
}

export function summary(r: ChildResult): string {
  const tail = (s: string) => (s.length > 3000 ? '…' + s.slice(-3000) : s);
  return `status ${r.status}, signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Resizable buffers (ES2024) are not in this project's TypeScript lib. */
export type ResizableArrayBuffer = ArrayBuffer & { resize(byteLength: number): void };
export function resizableBuffer(byteLength: number, maxByteLength: number): ResizableArrayBuffer {
  const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableArrayBuffer;
  return new Ctor(byteLength, { maxByteLength });
}

/** Detach a buffer the way a transfer to another realm does. */
export function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

/** Garbage-collector pressure: allocate and drop `count` arrays of `size` floats. */
export function gcPressure(count = 40, size = 1 << 20): void {
  for (let i = 0; i < count; i++) new Float32Array(size).fill(i);
}
