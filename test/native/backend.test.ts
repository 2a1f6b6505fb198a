/**
 * NativeBackend over the addon: how it is found and loaded (RNNKIT_NATIVE_PATH,
 * node-gyp-build), its options and environment (threads, RNNKIT_THREADS), the layout
 * check at createStack, and handles of other backends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { loadBackend } from '../../src/backend/load.js';
import { paramLayout } from '../../src/backend/layout.js';
import { createNativeBackend, NativeBackend, packageRoot, resolveAddonPath } from '../../src/backend/native/backend.js';
import { ReferenceBackend } from '../../src/backend/reference/index.js';
import { addon, addonPath, LSTM } from './native-helpers.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['RNNKIT_NATIVE_PATH', 'RNNKIT_THREADS', 'RNNKIT_ISA']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  addon().setThreads(0);
});

describe('NativeBackend', () => {
  it('loads through load.ts and reports backend, ISA and threads', async () => {
    const b = await loadBackend('native');
    expect(b).toBeInstanceOf(NativeBackend);
    const info = b.info();
    expect(info.backend).toBe('native');
    expect(info.isa).toBe(addon().isa());
    expect(info.threads).toBe(addon().getThreads());
  });

  it('finds the package root from its own module file', () => {
    expect(packageRoot()).toMatch(/\S/);
    expect(resolveAddonPath()).toBe(addonPath());
  });

  it('RNNKIT_NATIVE_PATH names the file to load; a missing one is an error saying so', () => {
    process.env.RNNKIT_NATIVE_PATH = addonPath();
    expect(resolveAddonPath()).toBe(addonPath());
    process.env.RNNKIT_NATIVE_PATH = '/nonexistent/rnnkit.node';
    expect(() => createNativeBackend()).toThrow(/RNNKIT_NATIVE_PATH=\/nonexistent\/rnnkit\.node: no such file/);
  });

  it('threads option and RNNKIT_THREADS set the thread count; bad values are refused', () => {
    expect(createNativeBackend({ threads: 1 }).info().threads).toBe(1);
    process.env.RNNKIT_THREADS = '2';
    expect(createNativeBackend().info().threads).toBe(2);
    process.env.RNNKIT_THREADS = 'many';
    expect(() => createNativeBackend()).toThrow(/RNNKIT_THREADS must be an integer ≥ 0 \(0 = every core\); got "many"/);
    delete process.env.RNNKIT_THREADS;
    expect(() => createNativeBackend({ threads: -2 })).toThrow(RangeError);
  });

  it('createStack refuses a stack whose native parameter count differs from paramLayout', () => {
    const real = addon();
    const drifted = { ...real, paramCount: (h: object) => real.paramCount(h) + 1 };
    const b = new NativeBackend(drifted, addonPath());
    const total = paramLayout(LSTM).total;
    expect(() => b.createStack(LSTM)).toThrow(`the addon counts ${total + 1} floats, paramLayout ${total}`);
    expect(() => b.createStack(LSTM)).toThrow(/native parameter layout differs from src\/backend\/layout\.ts/);
  });

  it('every cell and shape of the layout table gets exactly paramLayout(spec).total parameters', () => {
    const b = createNativeBackend();
    for (const cell of ['rnn_tanh', 'rnn_relu', 'lstm', 'lstm_peephole', 'gru', 'gru_cho', 'jordan'] as const) {
      for (const [layers, bidirectional] of [[1, false], [3, true]] as const) {
        const spec: StackSpec = { cell, inputSize: 5, hiddenSize: 6, outputSize: cell === 'jordan' ? 3 : 6, layers, bidirectional };
        const s = b.createStack(spec);
        expect(b.getParams(s).length, `${cell} L=${layers} bi=${bidirectional}`).toBe(paramLayout(spec).total);
        b.dispose(s);
      }
    }
  });

  it('a second asynchronous call on a busy stack rejects with ERR_RNNKIT_BUSY (the first resolves)', async () => {
    const b = createNativeBackend();
    const spec: StackSpec = { cell: 'gru', inputSize: 64, hiddenSize: 64, outputSize: 64, layers: 1, bidirectional: false };
    const s = b.createStack(spec);
    const req = { x: new Float32Array(256 * 4 * 64).fill(0.1), steps: 256, batch: 4 };
    const first = b.forward(s, req);
    const second = b.forward(s, req);
    await expect(second).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
    expect(() => b.forwardSync(s, req)).toThrow(/stack is busy/);
    expect((await first).y.length).toBe(256 * 4 * 64);
    expect((await b.forward(s, req)).y).toEqual((await first).y);
    b.dispose(s);
  });

  it("refuses another backend's handle with a TypeError naming it", async () => {
    const b = createNativeBackend();
    const ref = new ReferenceBackend();
    const foreign = ref.createStack(LSTM);
    expect(() => b.getParams(foreign)).toThrow(/native getParams: stack must be a handle made by this native backend; got a reference stack/);
    await expect(b.forward(foreign, { x: new Float32Array(3), steps: 1, batch: 1 })).rejects.toThrow(TypeError);
  });
});
