/**
 * Runs an example as its reader would — `node examples/<name>.mjs [options]` — and returns
 * what it printed. The examples import the built package (dist/), which CI builds before
 * the tests (`pretest:node`); locally, `npm run build` first.
 *
 * Every backend of RNNKIT_BACKENDS gets its own run (`--backend <name>`); a backend that
 * cannot load makes the example exit non-zero, and so its test fails.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { requestedBackends } from '../helpers/backends.js';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../..');

export { requestedBackends };

/** stdout of `node examples/<name>.mjs ...args`; rejects with stderr when it exits non-zero. */
export async function runExample(name: string, args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [resolve(repoRoot, 'examples', `${name}.mjs`), ...args], {
      cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 << 20,
      // One thread: the examples' tests share the machine with the rest of the suite.
      env: { ...process.env, RNNKIT_THREADS: process.env.RNNKIT_THREADS ?? '1', ...env },
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`examples/${name}.mjs ${args.join(' ')} failed: ${err.message}\nstdout:\n${err.stdout ?? ''}\nstderr:\n${err.stderr ?? ''}`);
  }
}

/** The numbers of the first line matching `re` (its capture groups), or a failure naming the output. */
export function numbersOf(stdout: string, re: RegExp): number[] {
  const m = re.exec(stdout);
  if (!m) throw new Error(`no line matching ${re} in:\n${stdout}`);
  return m.slice(1).map(Number);
}
