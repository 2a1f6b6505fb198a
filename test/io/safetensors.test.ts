/**
 * safetensors: byte layout, round trips, and refusal of every kind of corrupt file.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../../src/io/safetensors-file.js';

/** Build a file by hand, independently of our encoder: header string, u64 LE length, raw data. */
function handBuilt(header: string, data: number[] | Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  let n = h.length;
  for (let i = 0; i < 8; i++) {
    out[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian bytes of float32 values, via bit patterns (1.0 = 0x3f800000). */
function f32le(values: number[]): number[] {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  return Array.from(bits).flatMap((b) => [b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff, b >>> 24]);
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'rnnkit-st-'));

describe('safetensors byte layout', () => {
  it('reads a hand-built file', () => {
    const header = '{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}';
    const bytes = handBuilt(header, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, ...f32le([0.5])]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.map((t) => t.name)).toEqual(['a', 'b']);
    expect(Array.from(tensors[0].data)).toEqual([1, -2]);
    expect(tensors[0].shape).toEqual([2]);
    expect(Array.from(tensors[1].data)).toEqual([0.5]);
  });

  it('writes the length, an 8-byte aligned JSON header and little-endian data', () => {
    const bytes = encodeSafetensors([
      { name: 'w', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      { name: 'b', shape: [1], data: Float32Array.from([-0.25]) },
    ], { format: 'pt' });
    const n = bytes[0] + bytes[1] * 256 + bytes[2] * 65536 + bytes[3] * 16777216;
    expect(Array.from(bytes.subarray(4, 8))).toEqual([0, 0, 0, 0]);
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({
      // The data buffer's CRC-32, as Python's zlib.crc32(struct.pack('<5f', 1, 2, 3, 4, -0.25)) gives it.
      __metadata__: { format: 'pt', rnnkit_data_crc32: 'f2723a03' },
      w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      b: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
    });
    expect(bytes.length).toBe(8 + n + 20);
    expect(Array.from(bytes.subarray(8 + n))).toEqual(f32le([1, 2, 3, 4, -0.25]));
  });

  it('round-trips values exactly, including a scalar and an empty tensor', () => {
    const tensors = [
      { name: 'x', shape: [3, 1], data: Float32Array.from([Math.PI, -1e-30, 3.4e38]) },
      { name: 's', shape: [], data: Float32Array.from([7]) },
      { name: 'e', shape: [0, 4], data: new Float32Array(0) },
    ];
    const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
    const byName = Object.fromEntries(back.map((t) => [t.name, t]));
    for (const t of tensors) {
      expect(byName[t.name].shape).toEqual(t.shape);
      expect(byName[t.name].data).toEqual(t.data);
    }
  });

  it('refuses to encode inconsistent tensors', () => {
    expect(() => encodeSafetensors([{ name: 'a', shape: [3], data: new Float32Array(2) }])).toThrow(/a: shape \[3\] needs 3 values; got 2/);
    expect(() => encodeSafetensors([{ name: 'a', shape: [1], data: new Float32Array(1) }, { name: 'a', shape: [1], data: new Float32Array(1) }])).toThrow(/twice/);
    // What the decoder would refuse is refused before a file is written.
    expect(() => encodeSafetensors([], { note: 5 as unknown as string })).toThrow(/^metadata\.note must be a string; got number$/);
    expect(() => encodeSafetensors([{ name: 7 as unknown as string, shape: [1], data: new Float32Array(1) }])).toThrow(/^a tensor name must be a string; got number$/);
  });

  it('a tensor named __proto__ is written and read like any other (it vanished from the header)', () => {
    const bytes = encodeSafetensors([{ name: '__proto__', shape: [2], data: new Float32Array([1, 2]) }, { name: 'x', shape: [1], data: new Float32Array([3]) }]);
    const back = decodeSafetensors(bytes);
    expect(back.tensors.map((t) => [t.name, Array.from(t.data)])).toEqual([['__proto__', [1, 2]], ['x', [3]]]);
  });

  it('decodes an ArrayBuffer as well as a Uint8Array; anything else is a TypeError naming the source', () => {
    const bytes = encodeSafetensors([{ name: 'x', shape: [1], data: new Float32Array([3]) }]);
    expect(decodeSafetensors(bytes.buffer).tensors[0].data).toEqual(new Float32Array([3]));
    expect(() => decodeSafetensors([1, 2, 3] as never, 'w.safetensors')).toThrow(/^w\.safetensors: the bytes must be a Uint8Array or an ArrayBuffer$/);
  });
});

describe('safetensors refuses corrupt files, naming the problem', () => {
  const good = () => encodeSafetensors([
    { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b', shape: [2], data: Float32Array.from([7, 8]) },
  ]);
  const entry = (name: string, dtype: string, shape: number[], off: [number, number]) => `"${name}":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(off)}}`;
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['shorter than the length field', () => new Uint8Array(5), /at least an 8-byte header length/],
    ['truncated data', () => good().subarray(0, good().length - 3), /tensor b: data_offsets \[24, 32\] reach past the data buffer of 29 bytes/],
    ['header length beyond the file', () => {
      const b = good().slice();
      b[0] = 0xff; b[1] = 0xff;
      return b;
    }, /header length \d+ exceeds the \d+ bytes after the length field/],
    ['header length of 2^63', () => {
      const b = good().slice();
      b[7] = 0x80;
      return b;
    }, /header length 9223372036\d+ exceeds/],
    ['header that is not JSON', () => handBuilt('{"w": nope}', []), /not valid UTF-8 JSON/],
    ['header that is an array', () => handBuilt('[1,2]', []), /header must be a JSON object/],
    ['overlapping offsets', () => handBuilt(`{${entry('a', 'F32', [2], [0, 8])},${entry('b', 'F32', [2], [4, 12])}}`, new Uint8Array(12)), /tensor b: data_offsets \[4, 12\] overlap the previous tensor/],
    ['offsets past the end', () => handBuilt(`{${entry('a', 'F32', [4], [0, 16])}}`, new Uint8Array(8)), /tensor a: data_offsets \[0, 16\] reach past the data buffer of 8 bytes/],
    ['offsets that disagree with the shape', () => handBuilt(`{${entry('a', 'F32', [3], [0, 8])}}`, new Uint8Array(8)), /tensor a: shape \[3\] needs 12 bytes of F32; data_offsets \[0, 8\] give 8/],
    ['reversed offsets', () => handBuilt(`{${entry('a', 'F32', [0], [8, 0])}}`, new Uint8Array(8)), /tensor a: data_offsets \[8, 0\] are reversed/],
    ['a dtype other than F32', () => handBuilt(`{${entry('h', 'F16', [4], [0, 8])}}`, new Uint8Array(8)), /tensor h: dtype F16 is not supported; rnnkit reads F32 only/],
    ['a hole between tensors', () => handBuilt(`{${entry('a', 'F32', [1], [0, 4])},${entry('b', 'F32', [1], [8, 12])}}`, new Uint8Array(12)), /tensor b: data_offsets start at 8, leaving a hole after byte 4/],
    ['trailing bytes', () => handBuilt(`{${entry('a', 'F32', [1], [0, 4])}}`, new Uint8Array(9)), /data buffer has 9 bytes but the tensors cover 4/],
    ['a negative dimension', () => handBuilt(`{${entry('a', 'F32', [-1], [0, 4])}}`, new Uint8Array(4)), /tensor a: shape must be an array of non-negative integers/],
    ['fractional offsets', () => handBuilt(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}`, new Uint8Array(4)), /tensor a: data_offsets must be two non-negative integers/],
    ['non-string metadata', () => handBuilt(`{"__metadata__":{"n":1}}`, []), /__metadata__.n must be a string/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        decodeSafetensors(bytes(), 'bad.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(/^bad\.safetensors: /);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('files', () => {
  it('saves atomically (no temporary file left) and loads back', async () => {
    const dir = tmp();
    const file = path.join(dir, 'sub', 'w.safetensors');
    await saveSafetensors(file, [{ name: 'a', shape: [2], data: Float32Array.from([1, 2]) }]);
    await saveSafetensors(file, [{ name: 'a', shape: [3], data: Float32Array.from([3, 4, 5]) }]);
    expect(readdirSync(path.dirname(file))).toEqual(['w.safetensors']);
    const { tensors } = await loadSafetensors(file);
    expect(Array.from(tensors[0].data)).toEqual([3, 4, 5]);
  });

  it('a failed write leaves the old file intact and no temporary file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'keep.txt');
    writeFileSync(file, 'old');
    // Writing a directory's name as a file fails at the rename step.
    const blocked = path.join(dir, 'adir');
    await writeFileAtomic(path.join(blocked, 'x'), 'x');
    await expect(writeFileAtomic(blocked, 'new')).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['adir', 'keep.txt']);
  });

  it('names the file in load errors', async () => {
    const file = path.join(tmp(), 'broken.safetensors');
    writeFileSync(file, new Uint8Array(4));
    await expect(loadSafetensors(file)).rejects.toThrow(`${file}: file is 4 bytes`);
  });
});
