/**
 * Integrity of safetensors files: the CRC-32 rnnkit records in `__metadata__`, checked on
 * every read; files without one (PyTorch's) still read.
 */
import { describe, expect, it } from 'vitest';
import { crc32, crc32Hex } from '../../src/io/checksum.js';
import { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';

const tensors = () => [
  { name: 'w', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)) },
  { name: 'b', shape: [3], data: Float32Array.from([0.5, -1, 2]) },
];

function headerOf(bytes: Uint8Array): { n: number; header: Record<string, any> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

describe('crc32', () => {
  it('is zlib\'s CRC-32 (the standard check values)', () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32Hex(ascii('The quick brown fox jumps over the lazy dog'))).toBe('414fa339');
    // Every length around the 8-byte rounds, and continuation: crc(a ++ b) = crc(b, crc(a)).
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
    const bytewise = (b: Uint8Array) => {
      let c = ~0;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return ~c >>> 0;
    };
    for (const len of [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000]) {
      expect(crc32(bytes.subarray(0, len))).toBe(bytewise(bytes.subarray(0, len)));
      const cut = len >> 1;
      expect(crc32(bytes.subarray(cut, len), crc32(bytes.subarray(0, cut)))).toBe(bytewise(bytes.subarray(0, len)));
    }
    // An unaligned view reads the view's bytes.
    expect(crc32(bytes.subarray(3, 500))).toBe(bytewise(bytes.slice(3, 500)));
  });
});

describe('the checksum in safetensors files', () => {
  it('is recorded over the data buffer, next to the caller\'s metadata, and read back', () => {
    const bytes = encodeSafetensors(tensors(), { format: 'pt' });
    const { n, header } = headerOf(bytes);
    expect(Object.keys(header)[0]).toBe('__metadata__');
    expect(header.__metadata__).toEqual({ format: 'pt', [CHECKSUM_KEY]: crc32Hex(bytes.subarray(8 + n)) });
    const back = decodeSafetensors(bytes, 'x.safetensors');
    expect(back.metadata[CHECKSUM_KEY]).toMatch(/^[0-9a-f]{8}$/);
    expect(back.tensors.map((t) => t.data)).toEqual(tensors().map((t) => t.data));
  });

  it('refuses data with any one bit flipped, naming the file and that the data is corrupt', () => {
    const good = encodeSafetensors(tensors());
    const { n } = headerOf(good);
    // Every bit of the first and last data bytes and a bit in the middle: values that still
    // decode as finite floats of the right shape, so only the checksum can tell.
    const positions: [number, number][] = [];
    for (let bit = 0; bit < 8; bit++) positions.push([8 + n, bit], [good.length - 1, bit]);
    positions.push([8 + n + 21, 3]);
    for (const [at, bit] of positions) {
      const bad = good.slice();
      bad[at] ^= 1 << bit;
      let err: unknown;
      try {
        decodeSafetensors(bad, '/models/m/model.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${at} bit ${bit}`).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(/^\/models\/m\/model\.safetensors: the tensor data is corrupt: its CRC-32 is [0-9a-f]{8} but the file records [0-9a-f]{8}/);
    }
  });

  it('reads a file without a checksum (PyTorch\'s safetensors.torch.save_file writes none)', () => {
    // Built by hand as PyTorch writes it: metadata {"format":"pt"} only.
    const header = new TextEncoder().encode('{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    new DataView(bytes.buffer).setFloat32(8 + header.length, 1.5, true);
    new DataView(bytes.buffer).setFloat32(8 + header.length + 4, -3, true);
    const { tensors: t, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(t[0].data)).toEqual([1.5, -3]);
  });

  it('refuses a checksum that is not 8 hex digits', () => {
    const bad = encodeSafetensors(tensors());
    const { n } = headerOf(bad);
    const at = new TextDecoder().decode(bad.subarray(0, 8 + n)).indexOf('"rnnkit_data_crc32":"') + '"rnnkit_data_crc32":"'.length;
    bad.set(new TextEncoder().encode('XYZ12345'), at);
    expect(() => decodeSafetensors(bad, 'f.safetensors')).toThrow(/^f\.safetensors: __metadata__\.rnnkit_data_crc32 must be 8 lowercase hex digits; got "XYZ12345"$/);
  });

  it('a checksum given in the metadata is replaced by the true one', () => {
    const bytes = encodeSafetensors(tensors(), { [CHECKSUM_KEY]: '00000000' });
    expect(() => decodeSafetensors(bytes)).not.toThrow();
  });
});
