/**
 * Model directories as one unit: a save makes config.json and model.safetensors current
 * together (one rename of `.rnnkit/current`), the weights carry their checksum, plain
 * directories (older rnnkit, PyTorch users, by hand) load and can be saved over, and what
 * a killed save left is cleaned by the next save.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { initModelParams } from '../../src/init/initializers.js';
import { CURRENT, readUnit, STORE, writeUnit } from '../../src/io/atomic-dir.js';
import { encodeModel } from '../../src/io/model-bytes.js';
import { CONFIG_FILE, loadModelFiles, saveModelFiles, WEIGHTS_FILE } from '../../src/io/model-file.js';
import { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 9, dim: 4 },
  conditionSize: 0,
  stack: { cell: 'gru', inputSize: 4, hiddenSize: 6, outputSize: 6, layers: 1, bidirectional: false },
  outputs: 9,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
const total = modelLayout(spec).total;

const tmp = (label: string) => mkdtempSync(path.join(tmpdir(), `rnnkit-dir-${label}-`));
/** Parameters marked with `n` at both ends, so a load tells which save they came from. */
function marked(n: number): Float32Array {
  const p = initModelParams(spec, { seed: n });
  p[0] = n;
  p[total - 1] = -n;
  return p;
}
/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const store = (dir: string) => path.join(dir, STORE);
/** An older rnnkit's directory: two real files (written without a checksum). */
function oldFormat(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const { config } = encodeModel(spec, marked(n), { save: n });
  const layout = modelLayout(spec);
  const p = marked(n);
  writeFileSync(path.join(dir, WEIGHTS_FILE), encodeSafetensors(layout.entries.map((e) => ({ name: e.name, shape: e.shape, data: p.subarray(e.offset, e.offset + e.size) }))));
  writeFileSync(path.join(dir, CONFIG_FILE), config);
}
async function expectSave(dir: string, n: number): Promise<void> {
  const m = await loadModelFiles(dir);
  expect(m.extra.save).toBe(n);
  expect(m.params[0]).toBe(n);
  expect(m.params[total - 1]).toBe(-n);
  expect(m.params).toEqual(marked(n));
}

describe('a model directory is one unit', () => {
  it('round-trips through links into the current save, the weights with their checksum', async () => {
    const dir = path.join(tmp('round'), 'model');
    await saveModelFiles(dir, spec, marked(1), { save: 1, tokenizer: { kind: 'char', tokens: ['a', 'b'] } });
    expect(readdirSync(dir).sort()).toEqual([STORE, CONFIG_FILE, WEIGHTS_FILE].sort());
    // The top-level names are relative links through `current`, which names the one save.
    for (const f of [CONFIG_FILE, WEIGHTS_FILE]) expect(readlinkSync(path.join(dir, f))).toBe(path.join(STORE, CURRENT, f));
    const version = readlinkSync(path.join(store(dir), CURRENT));
    expect(version).toMatch(new RegExp(`^m-${process.pid}-[0-9a-f]+$`));
    expect(readdirSync(store(dir)).sort()).toEqual([CURRENT, version].sort());
    expect(readdirSync(path.join(store(dir), version)).sort()).toEqual([CONFIG_FILE, WEIGHTS_FILE].sort());
    // An outsider reads the files by their names.
    const st = decodeSafetensors(readFileSync(path.join(dir, WEIGHTS_FILE)));
    expect(st.metadata).toMatchObject({ format: 'pt', producer: 'rnnkit', [CHECKSUM_KEY]: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8')).extra.tokenizer.tokens).toEqual(['a', 'b']);
    await expectSave(dir, 1);
    // Saved again: one version left, the new one.
    await saveModelFiles(dir, spec, marked(2), { save: 2 });
    const next = readlinkSync(path.join(store(dir), CURRENT));
    expect(next).not.toBe(version);
    expect(readdirSync(store(dir)).sort()).toEqual([CURRENT, next].sort());
    await expectSave(dir, 2);
  });

  it('refuses weights with a flipped data bit, naming the file and that the data is corrupt', async () => {
    const dir = tmp('flip');
    await saveModelFiles(dir, spec, marked(1), { save: 1 });
    const file = path.join(dir, WEIGHTS_FILE);
    const bytes = readFileSync(file);
    bytes[bytes.length - 4 * 20] ^= 0x04; // a mantissa bit of a weight: still finite, still the right shape
    writeFileSync(file, bytes); // through the link, into the current save
    await expect(loadModelFiles(dir)).rejects.toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the tensor data is corrupt: its CRC-32 is [0-9a-f]{8} but the file records [0-9a-f]{8}`),
    );
  });

  it('loads a PyTorch-style directory: real files, weights without a checksum', async () => {
    const dir = tmp('torch');
    oldFormat(dir, 3);
    expect(decodeSafetensors(readFileSync(path.join(dir, WEIGHTS_FILE))).metadata[CHECKSUM_KEY]).toBeDefined();
    // Strip the checksum as PyTorch's writer would (it writes only {"format": "pt"}).
    const { tensors } = decodeSafetensors(readFileSync(path.join(dir, WEIGHTS_FILE)));
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      ...Object.fromEntries(tensors.reduce<[string, unknown][]>((acc, t) => {
        const begin = acc.length === 0 ? 0 : (acc.at(-1)![1] as { data_offsets: number[] }).data_offsets[1];
        acc.push([t.name, { dtype: 'F32', shape: t.shape, data_offsets: [begin, begin + 4 * t.data.length] }]);
        return acc;
      }, [])),
    });
    const h = new TextEncoder().encode(header);
    const data = new Uint8Array(tensors.reduce((a, t) => a + 4 * t.data.length, 0));
    let at = 0;
    for (const t of tensors) for (const v of t.data) new DataView(data.buffer).setFloat32((at += 4) - 4, v, true);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    writeFileSync(path.join(dir, WEIGHTS_FILE), out);
    expect(decodeSafetensors(out).metadata).toEqual({ format: 'pt' });
    await expectSave(dir, 3);
  });

  it('loads an older rnnkit directory, saves over it (leftover temp files removed), and loads the new save', async () => {
    const dir = tmp('old');
    oldFormat(dir, 4);
    const dead = deadPid();
    const oldTemp = `.${CONFIG_FILE}.${dead}.1712345678901.k3j4h5.tmp`; // what older rnnkit's writeFileAtomic left when killed
    writeFileSync(path.join(dir, oldTemp), '{"half":');
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await expectSave(dir, 4);
    await saveModelFiles(dir, spec, marked(5), { save: 5 });
    await expectSave(dir, 5);
    expect(readdirSync(dir).sort()).toEqual([STORE, CONFIG_FILE, WEIGHTS_FILE, 'notes.txt'].sort());
    expect(lstatSync(path.join(dir, CONFIG_FILE)).isSymbolicLink()).toBe(true);
    // The old files were kept as a save of their own until the new one was current, then removed.
    expect(readdirSync(store(dir))).toHaveLength(2);
  });

  it("a save's check waits in the queue: a slow check of the first save cannot let the second commit first", async () => {
    // saveModelFiles checks the directory before writing. Awaited before joining the queue,
    // a check that took longer for save 1 than for save 2 (a busy libuv pool in CI did it)
    // let save 2 commit first and save 1 be current.
    const dir = tmp('check-order');
    const order: string[] = [];
    const slow = () => new Promise<void>((resolve) => setTimeout(() => { order.push('check 1'); resolve(); }, 60));
    const fast = async () => { order.push('check 2'); };
    await Promise.all([
      writeUnit(dir, { 'a.txt': 'one' }, { before: slow }),
      writeUnit(dir, { 'a.txt': 'two' }, { before: fast }),
    ]);
    expect(order).toEqual(['check 1', 'check 2']);
    expect((await readUnit(dir, ['a.txt'])).get('a.txt')!.toString()).toBe('two');
    // A refusing check refuses its save only; the queue goes on.
    const refused = writeUnit(dir, { 'a.txt': 'three' }, { before: async () => { throw new Error('no'); } });
    const after = writeUnit(dir, { 'a.txt': 'four' });
    await expect(refused).rejects.toThrow('no');
    await after;
    expect((await readUnit(dir, ['a.txt'])).get('a.txt')!.toString()).toBe('four');
  });

  it('cleans what a killed save left at the next save, and leaves a live process\'s entries alone', async () => {
    const dir = tmp('leftovers');
    await saveModelFiles(dir, spec, marked(6), { save: 6 });
    const dead = deadPid();
    const live = process.ppid; // running, and not this process
    mkdirSync(path.join(store(dir), `m-${dead}-abc123`));
    writeFileSync(path.join(store(dir), `m-${dead}-abc123`, WEIGHTS_FILE), 'half a file');
    symlinkSync(`m-${dead}-abc123`, path.join(store(dir), `l-${dead}-def456`));
    mkdirSync(path.join(store(dir), `m-${live}-fedcba`));
    writeFileSync(path.join(store(dir), 'user-file'), 'not ours: kept');
    await expectSave(dir, 6);
    await saveModelFiles(dir, spec, marked(7), { save: 7 });
    await expectSave(dir, 7);
    const current = readlinkSync(path.join(store(dir), CURRENT));
    expect(readdirSync(store(dir)).sort()).toEqual([CURRENT, current, `m-${live}-fedcba`, 'user-file'].sort());
  });

  it('reads a top-level file someone replaced by a real file (an editor, a script) as it is', async () => {
    const dir = tmp('replaced');
    await saveModelFiles(dir, spec, marked(8), { save: 8 });
    const config = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
    config.extra.save = 80;
    writeFileSync(path.join(dir, 'edited.json'), JSON.stringify(config));
    renameSync(path.join(dir, 'edited.json'), path.join(dir, CONFIG_FILE)); // a real file now
    expect((await loadModelFiles(dir)).extra.save).toBe(80);
    // A save over it makes both names links again, to the new save.
    await saveModelFiles(dir, spec, marked(9), { save: 9 });
    await expectSave(dir, 9);
    expect(readlinkSync(path.join(dir, CONFIG_FILE))).toBe(path.join(STORE, CURRENT, CONFIG_FILE));
  });

  it('without symlinks: a pointer file and top-level copies; saving with symlinks later converts it', async () => {
    const dir = tmp('nolinks');
    await saveModelFiles(dir, spec, marked(10), { save: 10 }, { symlinks: false });
    const pointer = path.join(store(dir), CURRENT);
    expect(lstatSync(pointer).isFile()).toBe(true);
    const version = readFileSync(pointer, 'utf8').trim();
    expect(existsSync(path.join(store(dir), version, WEIGHTS_FILE))).toBe(true);
    for (const f of [CONFIG_FILE, WEIGHTS_FILE]) {
      expect(lstatSync(path.join(dir, f)).isFile()).toBe(true);
      expect(readFileSync(path.join(dir, f))).toEqual(readFileSync(path.join(store(dir), version, f)));
    }
    await expectSave(dir, 10);
    await saveModelFiles(dir, spec, marked(11), { save: 11 }, { symlinks: false });
    await expectSave(dir, 11);
    expect(readdirSync(store(dir))).toHaveLength(2);
    await saveModelFiles(dir, spec, marked(12), { save: 12 });
    await expectSave(dir, 12);
    expect(lstatSync(pointer).isSymbolicLink()).toBe(true);
    expect(lstatSync(path.join(dir, WEIGHTS_FILE)).isSymbolicLink()).toBe(true);
    expect(readdirSync(store(dir))).toHaveLength(2);
  });

  it('loads, while saves run in the same process, only whole saves', async () => {
    const dir = tmp('race');
    oldFormat(dir, 100);
    let saving = true;
    const saves = (async () => {
      for (let n = 101; n <= 140; n++) await saveModelFiles(dir, spec, marked(n), { save: n });
      saving = false;
    })();
    const seen = new Set<number>();
    while (saving) {
      const m = await loadModelFiles(dir);
      const n = m.extra.save as number;
      expect(m.params[0]).toBe(n);
      expect(m.params[total - 1]).toBe(-n);
      seen.add(n);
    }
    await saves;
    await expectSave(dir, 140);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a save queued behind another in the same process waits for it; the last one is current', async () => {
    const dir = tmp('queue');
    await Promise.all([1, 2, 3, 4].map((n) => saveModelFiles(dir, spec, marked(n), { save: n })));
    await expectSave(dir, 4);
    expect(readdirSync(store(dir))).toHaveLength(2);
  });

  it('refuses a file name the store would clash with, and a directory where a file goes', async () => {
    const dir = tmp('names');
    mkdirSync(path.join(dir, CONFIG_FILE));
    await expect(saveModelFiles(dir, spec, marked(1))).rejects.toThrow(/config\.json is a directory/);
  });
});
