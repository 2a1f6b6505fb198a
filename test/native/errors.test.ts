/**
 * The addon's C-failure paths, on the real addon sources linked with a test double of the
 * C ABI that fails on request (fake-abi/fake_abi.cc, compiled here once into
 * build/test-fake-abi/). A failing C call must become a JS Error carrying rk_last_error()
 * — read on the thread that failed, which for the asynchronous calls is a libuv worker
 * (the message is thread-local: read on the main thread it would be empty) — with the
 * status name as `code`, and must leave the stack usable (not busy) and without a training
 * forward for backward to use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeAddon } from '../../src/backend/native.js';
import { packageRoot } from '../../src/backend/native.js';

const require = createRequire(import.meta.url);
const root = packageRoot();
const outDir = path.join(root, 'build', 'test-fake-abi');
const out = path.join(outDir, 'rnnkit-fake-abi.node');

function sources(): string[] {
  const addonDir = path.join(root, 'native', 'addon');
  return [
    ...readdirSync(addonDir)
      .filter((f) => f.endsWith('.cc'))
      .map((f) => path.join(addonDir, f)),
    path.join(root, 'test', 'native', 'fake-abi', 'fake_abi.cc'),
  ];
}

/** Compile the addon against the fake ABI unless an up-to-date build exists. */
function buildFake(): void {
  const inputs = [...sources(), ...readdirSync(path.join(root, 'native', 'addon')).map((f) => path.join(root, 'native', 'addon', f))];
  inputs.push(path.join(root, 'native', 'include', 'rnnkit.h'));
  if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs)) return;
  mkdirSync(outDir, { recursive: true });
  const napiInclude = path.dirname(require.resolve('node-addon-api/package.json'));
  const nodeInclude = (require('node-api-headers') as { include_dir: string }).include_dir;
  execFileSync(
    process.env.CXX ?? 'g++',
    [
      '-std=gnu++17', '-shared', '-fPIC', '-O1', '-pthread',
      '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
      `-I${path.join(root, 'native', 'include')}`, `-I${napiInclude}`, `-I${nodeInclude}`,
      ...sources(), '-o', out,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

let fake: NativeAddon;
beforeAll(() => {
  buildFake();
  fake = require(out) as NativeAddon;
}, 180_000);

const spec = { cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 3, layers: 1, bidirectional: false } as const;
const failingX = (steps: number) => Float32Array.from({ length: steps * 2 }, (_, i) => (i === 0 ? -1 : 0)); // batch 1, I 2
const goodX = () => Float32Array.from([1, 0, 0, 0]);

function caught(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('native addon: failures reported by the C layer', () => {
  it('a failing create throws Error(code RK_ENOMEM) with the C message', () => {
    const e = caught(() => fake.create({ ...spec, hiddenSize: 999, outputSize: 999 }));
    expect(e.code).toBe('RK_ENOMEM');
    expect(e.message).toBe('rnnkit create failed (RK_ENOMEM): fake: hidden_size 999 requested an allocation failure');
  });

  it('a failing forwardSync throws with the message of this thread', () => {
    const h = fake.create(spec);
    const e = caught(() => fake.forwardSync(h, { x: failingX(2), steps: 2, batch: 1 }));
    expect(e.code).toBe('RK_EINVAL');
    expect(e.message).toBe('rnnkit forward failed (RK_EINVAL): fake: x[0] = -1 requested a forward failure (T=2, B=1)');
    fake.dispose(h);
  });

  it('a failing asynchronous forward rejects with the message read on the worker thread', async () => {
    const h = fake.create(spec);
    // Make the main thread's last error a different one, so reading it there would show.
    caught(() => fake.forwardSync(h, { x: failingX(2), steps: 2, batch: 1 }));
    const e = await fake.forward(h, { x: failingX(3), steps: 3, batch: 1, training: true }).then(
      () => {
        throw new Error('resolved');
      },
      (err: Error & { code?: string }) => err,
    );
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('RK_EINVAL');
    expect(e.message).toBe('rnnkit forward failed (RK_EINVAL): fake: x[0] = -1 requested a forward failure (T=3, B=1)');
    // Not busy any more, and the failed training forward is not one backward can use.
    expect(fake.getParams(h)).toHaveLength(4);
    expect(caught(() => fake.backwardSync(h, { dy: new Float32Array(6) })).message).toMatch(/preceding successful forward/);
    fake.dispose(h);
  });

  it('a failing asynchronous backward rejects with its code and message; the stack stays usable', async () => {
    const h = fake.create(spec);
    await fake.forward(h, { x: goodX(), steps: 2, batch: 1, training: true });
    const dy = new Float32Array(6);
    dy[0] = -1;
    const e = await fake.backward(h, { dy }).then(
      () => {
        throw new Error('resolved');
      },
      (err: Error & { code?: string }) => err,
    );
    expect(e.code).toBe('RK_EINTERNAL');
    expect(e.message).toBe('rnnkit backward failed (RK_EINTERNAL): fake: dy[0] = -1 requested a backward failure');
    const ok = await fake.backward(h, { dy: new Float32Array(6) });
    expect(ok.dx).toHaveLength(4);
    fake.dispose(h);
  });

  it('an ISA the C layer refuses is a RangeError quoting its reason', () => {
    const e = caught(() => fake.forceIsa('avx2'));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('isa "avx2" cannot be forced: fake: no isa avx2');
  });
});
