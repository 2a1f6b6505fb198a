/**
 * The safetensors format, float32 only: encode, decode with full validation, and atomic
 * file writes.
 *
 * Layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian unsigned
 * header length N, then N bytes of UTF-8 JSON, then the data buffer. The JSON maps each
 * tensor name to `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` with
 * offsets relative to the start of the data buffer, plus an optional `"__metadata__"`
 * object of string → string. Tensors are stored little-endian, row-major.
 *
 * Decoding checks every length and offset BEFORE reading any tensor: the header length
 * fits in the file, the JSON is an object of well-formed entries, each entry's byte range
 * lies inside the data buffer and matches its shape, ranges do not overlap and leave no
 * hole, and the dtype is F32. A failure is a `SafetensorsError` naming the tensor.
 *
 * Integrity: every file rnnkit writes records the CRC-32 (IEEE, zlib's; see checksum.ts) of
 * its whole data buffer — every byte after the header — as 8 lowercase hex digits in
 * `__metadata__["rnnkit_data_crc32"]` (other readers ignore metadata). Decoding checks it when
 * it is present and refuses a mismatch as corrupt data; files without one (PyTorch's, by
 * hand) are read as before.
 *
 * This module is pure (no file system), so browsers can use it; `safetensors-file.ts`
 * reads and writes files in Node.
 */
import { crc32Hex } from './checksum.js';

/** A named float32 tensor. */
export interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A decoded file: tensors in file (data-offset) order, and the metadata strings. */
export interface SafetensorsContent {
  tensors: Tensor[];
  metadata: Record<string, string>;
}

/**
 * Why a tensor's data does not fit its shape — a dimension that is not a non-negative
 * integer, or another count of values than the shape's — or undefined when it fits. A
 * reader that trusted the shape would fill a parameter partly or spill into the next.
 */
export function tensorShapeProblem(t: Tensor): string | undefined {
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) return `shape must be non-negative integers; got [${t.shape.join(', ')}]`;
  const n = elementCount(t.shape);
  if (t.data.length !== n) return `shape [${t.shape.join(', ')}] needs ${n} values; got ${t.data.length}`;
  return undefined;
}

/** The first bytes of a zip archive: torch.save's format since PyTorch 1.6 (io/torch-save.ts). */
export function isZipArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** The first bytes of a pickle of protocol 2–5: torch.save's format before PyTorch 1.6. */
export function isBarePickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

/** A malformed or unsupported safetensors file. `source` is the file name or a label. */
export class SafetensorsError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** The `__metadata__` key of the data buffer's CRC-32 (8 lowercase hex digits). */
export const CHECKSUM_KEY = 'rnnkit_data_crc32';

/** Headers larger than this are refused before any parsing (the format's own limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const F32_BYTES = 4;

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Encode `tensors` (written in the given order) as safetensors bytes. The header is padded
 * with spaces so the data buffer starts 8-byte aligned, as the reference writer does. The
 * metadata gets the data buffer's CRC-32 under {@link CHECKSUM_KEY} (a value given for that
 * key is replaced).
 */
export function encodeSafetensors(tensors: Tensor[], metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  // No prototype: a tensor named "__proto__" is an entry like any other (on {} it set the
  // prototype and vanished from the header).
  const header: Record<string, unknown> = Object.create(null);
  let offset = 0;
  const seen = new Set<string>();
  // What decodeSafetensors would refuse is refused here, before a file is written.
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new TypeError(`metadata.${k} must be a string; got ${typeof v}`);
  for (const t of tensors) {
    if (typeof t.name !== 'string') throw new TypeError(`a tensor name must be a string; got ${typeof t.name}`);
    if (t.name === '__metadata__' || t.name.length === 0) throw new RangeError(`tensor name ${JSON.stringify(t.name)} is reserved or empty`);
    if (seen.has(t.name)) throw new RangeError(`tensor ${t.name} appears twice`);
    seen.add(t.name);
    const problem = tensorShapeProblem(t);
    if (problem) throw new RangeError(`tensor ${t.name}: ${problem}`);
    const n = elementCount(t.shape);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * F32_BYTES] };
    offset += n * F32_BYTES;
  }
  const data = new Uint8Array(offset);
  const dataView = new DataView(data.buffer);
  let at = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, at += F32_BYTES) dataView.setFloat32(at, t.data[i], true);
  }
  // __metadata__ first, as the reference writer puts it.
  const withMeta: Record<string, unknown> = { __metadata__: { ...metadata, [CHECKSUM_KEY]: crc32Hex(data) }, ...header };
  let json = new TextEncoder().encode(JSON.stringify(withMeta));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Decode and validate safetensors bytes. `source` names the file in errors. */
export function decodeSafetensors(input: Uint8Array | ArrayBuffer, source = 'safetensors'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  if (!(input instanceof Uint8Array || input instanceof ArrayBuffer)) throw new TypeError(`${source}: the bytes must be a Uint8Array or an ArrayBuffer`);
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes; a safetensors file has at least an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  // torch.save writes a zip archive (PyTorch ≥ 1.6) or a bare pickle, whose first bytes read
  // as an impossible header length: say what the file is, not only that the length is wrong.
  if (headerLen > BigInt(bytes.length - 8) || bytes[8] !== 0x7b /* { */) {
    const zip = isZipArchive(bytes);
    if (zip || isBarePickle(bytes)) {
      fail(zip
        ? "this is a zip archive (torch.save's format), not safetensors: in Node, model.loadWeights(file), importTorchRnn(file) and decodeTorchSave(bytes) read it; in a browser, save with safetensors.torch.save_file(module.state_dict(), path)"
        : "this is a bare Python pickle (torch.save's format before PyTorch 1.6), not safetensors: save again with a current torch.save, or with safetensors.torch.save_file(module.state_dict(), path)");
    }
  }
  if (headerLen > BigInt(bytes.length - 8) && /^\s*</.test(String.fromCharCode(...bytes.subarray(0, 16)))) {
    fail('this is HTML, not safetensors: a wrong URL, or a server that answers a missing file with a page');
  }
  if (headerLen > BigInt(bytes.length - 8)) fail(`header length ${headerLen} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const N = Number(headerLen);
  if (N < 2) fail(`header length ${N} is too small for a JSON object`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + N)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + N;
  const dataBytes = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string; got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) fail(`tensor ${name}: entry must be an object`);
    const v = value as Record<string, unknown>;
    if (typeof v.dtype !== 'string') fail(`tensor ${name}: dtype must be a string`);
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`tensor ${name}: shape must be an array of non-negative integers; got ${JSON.stringify(v.shape)}`);
    }
    const off = v.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      fail(`tensor ${name}: data_offsets must be two non-negative integers; got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as number[];
    if (begin > end) fail(`tensor ${name}: data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataBytes) fail(`tensor ${name}: data_offsets [${begin}, ${end}] reach past the data buffer of ${dataBytes} bytes (truncated file?)`);
    if (v.dtype !== 'F32') fail(`tensor ${name}: dtype ${v.dtype} is not supported; rnnkit reads F32 only (save weights with tensor.float(), and no buffers such as num_batches_tracked)`);
    const shape = v.shape as number[];
    const want = elementCount(shape) * F32_BYTES;
    if (end - begin !== want) fail(`tensor ${name}: shape [${shape.join(', ')}] needs ${want} bytes of F32; data_offsets [${begin}, ${end}] give ${end - begin}`);
    entries.push({ name, dtype: 'F32', shape, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor ${e.name}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`tensor ${e.name}: data_offsets start at ${e.begin}, leaving a hole after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataBytes) fail(`data buffer has ${dataBytes} bytes but the tensors cover ${cursor} (trailing bytes)`);
  const recorded = metadata[CHECKSUM_KEY];
  if (recorded !== undefined) {
    if (!/^[0-9a-f]{8}$/.test(recorded)) fail(`__metadata__.${CHECKSUM_KEY} must be 8 lowercase hex digits; got ${JSON.stringify(recorded)}`);
    const actual = crc32Hex(bytes.subarray(dataStart));
    if (actual !== recorded) {
      fail(`the tensor data is corrupt: its CRC-32 is ${actual} but the file records ${recorded} (damaged, or rewritten by another program: restore or save it again)`);
    }
  }
  // Every range is now known to be inside the buffer: read.
  const tensors: Tensor[] = entries.map((e) => {
    const n = (e.end - e.begin) / F32_BYTES;
    const data = new Float32Array(n);
    const base = dataStart + e.begin;
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(base + i * F32_BYTES, true);
    return { name: e.name, shape: e.shape, data };
  });
  return { tensors, metadata };
}
