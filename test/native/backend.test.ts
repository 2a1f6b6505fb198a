/**
 * NativeBackend over the addon: how it is found and loaded (RNNKIT_NATIVE_PATH,
 * node-gyp-build), the ABI check at load (rk_abi_describe against src/backend/abi/schema.ts),
 * its options and environment (threads, RNNKIT_THREADS), busy stacks, and handles of
 * other backends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { defaultBackend, defaultTraining, loadBackend } from '../../src/backend/load.js';
import { paramLayout } from '../../src/backend/layout.js';
import { createNativeBackend, NativeBackend } from '../../src/backend/native/backend.js';
import { packageRoot, resolveAddonPath } from '../../src/backend/native/addon.js';
import { ReferenceBackend } from '../../src/backend/reference/index.js';
import { AbiMismatchError } from '../../src/backend/abi/abi.js';
import { addon, addonPath, caught, LSTM } from './native-helpers.js';

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
    expect(() => createNativeBackend()).toThrow(/RNNKIT_THREADS must be an integer in 0\.\.1024 \(0 = every core\); got "many"/);
    // 99999 started threads until the system refused one, which aborted the process.
    process.env.RNNKIT_THREADS = '99999';
    expect(() => createNativeBackend()).toThrow(/^RNNKIT_THREADS must be an integer in 0\.\.1024 \(0 = every core\); got 99999$/);
    delete process.env.RNNKIT_THREADS;
    expect(() => createNativeBackend({ threads: -2 })).toThrow(RangeError);
    expect(() => createNativeBackend({ threads: 1025 })).toThrow(/^threads must be an integer in 0\.\.1024/);
    // The C ABI refuses it too (its own callers have no TypeScript in front).
    expect(() => addon().setThreads(5000)).toThrow(/rk_set_threads: n must be in 0\.\.1024 \(0 = every core\), got 5000/);
  });

  it('a bad RNNKIT_THREADS is an error of the backend choice, not a silent fall to the reference backend', async () => {
    process.env.RNNKIT_THREADS = 'abc';
    try {
      await expect(defaultBackend()).rejects.toThrow(/^RNNKIT_THREADS must be an integer in 0\.\.1024/);
      await expect(defaultTraining()).rejects.toThrow(/^RNNKIT_THREADS must be/);
    } finally {
      delete process.env.RNNKIT_THREADS;
    }
  });

  it('refuses an addon whose rk_abi_describe differs from src/backend/abi/schema.ts (AbiMismatchError naming it)', () => {
    const real = addon();
    const text = real.abiDescribe();
    const withDescription = (t: string) => new NativeBackend({ ...real, abiDescribe: () => t }, 'x', { isa: real.isa() });
    const mismatch = (t: string): AbiMismatchError => {
      const e = caught(() => withDescription(t));
      expect(e).toBeInstanceOf(AbiMismatchError);
      expect(e.message).toMatch(/^the native addon x was built for another rnnkit\.h: /);
      return e as AbiMismatchError;
    };
    expect(text).toMatch(/ layers:i32@/);
    expect(mismatch(text.replace(' layers:i32@', ' levels:i32@')).message).toMatch(/struct rk_stack_spec has fields \[.*levels:i32.*\], TypeScript packs \[.*layers:i32/);
    expect(mismatch(text.replace(/ max_norm:f64@\d+/, '')).message).toMatch(/struct rk_optimizer has fields/);
    expect(mismatch(text.replace(/^limit RK_MAX_LAYERS 1024$/m, 'limit RK_MAX_LAYERS 2048')).message).toMatch(/limit RK_MAX_LAYERS is 2048, TypeScript checks 1024/);
    expect(mismatch(text.replace(/^limit RK_MAX_WIDTH .*$/m, '')).message).toMatch(/limit RK_MAX_WIDTH is missing/);
    expect(mismatch(text.replace(/^struct rk_batch .*$/m, '')).message).toMatch(/struct rk_batch is missing/);
    expect(mismatch(text.replace('RK_CELL_JORDAN=6', 'RK_CELL_JORDAN=6 RK_CELL_MGU=7')).message).toMatch(/enum rk_cell: RK_CELL_MGU unknown to TypeScript/);
    expect(mismatch(text.replace(' RK_OPT_ADAMW=3', '')).message).toMatch(/enum rk_optimizer_kind: RK_OPT_ADAMW unknown to the module/);
    // Only the offsets moved (another target's layout): accepted, and packed with them.
    const moved = text.replace(/^struct rk_stack_spec 24 .*$/m, 'struct rk_stack_spec 48 cell:i32@0 input_size:i32@8 hidden_size:i32@16 output_size:i32@24 layers:i32@32 bidirectional:i32@40');
    const b = withDescription(moved);
    expect(b.abi.sizeOf('rk_stack_spec')).toBe(48);
    expect(b.abi.offsetOf('rk_stack_spec', 'layers')).toBe(32);
    // … which this addon, built with the other layout, refuses as bytes of the wrong length.
    expect(() => b.createStack(LSTM)).toThrow(/^spec must be a Uint8Array of 24 packed bytes/);
  });

  it('refuses an addon without abiDescribe (a build older than rk_abi_describe)', () => {
    const { abiDescribe: _, ...old } = addon();
    expect(() => new NativeBackend(old as never, '/old/rnnkit.node')).toThrow(/the native addon \/old\/rnnkit\.node predates rk_abi_describe; rebuild it/);
  });

  it('the addon loaded here passes the check, and packs specs the addon reads', () => {
    const b = createNativeBackend();
    expect(b.abi.sizeOf('rk_stack_spec')).toBe(24);
    const s = b.createStack(LSTM);
    expect(b.getParams(s).length).toBe(paramLayout(LSTM).total);
    expect(b.stackLayoutText(s).trim().split('\n').map((l) => l.split(' ')[0])).toEqual(paramLayout(LSTM).entries.map((e) => e.name));
    b.dispose(s);
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

  it('a C refusal of a spec TypeScript did not validate reaches the caller as Error(code RK_EINVAL)', () => {
    const b = createNativeBackend();
    expect(() => b.createStack({ ...LSTM, layers: 1e9 })).toThrow(expect.objectContaining({ code: 'RK_EINVAL', message: expect.stringMatching(/layers must be in 1\.\.1024/) }));
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
