/**
 * The format of `torch.save(module.state_dict(), path)` (PyTorch ≥ 1.6), read and written
 * without Python: a zip archive (fflate reads and writes it) holding `<name>/data.pkl`, a
 * pickle of the dict, and `<name>/data/<key>`, the raw little-endian bytes of each storage.
 * What `encodeTorchSave` writes, `torch.load(path)` reads (with `weights_only=True` too).
 *
 * The pickle is interpreted by a restricted machine, like `torch.load(weights_only=True)`:
 * it knows the opcodes PyTorch's pickles use and a short list of globals (OrderedDict,
 * `_rebuild_tensor_v2` and its kin, the storage types), and refuses every other global — so
 * a file cannot make rnnkit run anything, and `torch.save(model)` (which pickles the module's
 * own class) is refused with the way to save a state dict instead. Nested dicts (a training
 * checkpoint `{'model': state_dict, 'epoch': 3}`) give dotted names (`model.rnn.weight_ih_l0`);
 * values other than tensors are skipped. Every size, stride, offset and memo index is checked
 * against the bytes that hold it before anything is read.
 *
 * Pure (no file system): Node reads files with it (tensor-file.ts).
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { isBarePickle, isZipArchive, SafetensorsError, type SafetensorsContent, type Tensor } from './safetensors.js';

/** A storage type named by the pickle (torch.FloatStorage, …): its dtype and bytes per element. */
class StorageType {
  constructor(readonly name: string, readonly bytes: number) {}
}
const STORAGE_TYPES: Record<string, number> = {
  FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4,
  ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

/** A storage of the archive: its type and its bytes. */
class Storage {
  constructor(readonly type: StorageType, readonly bytes: Uint8Array, readonly key: string) {}
  get length(): number {
    return this.bytes.length / this.type.bytes;
  }
}

/** A tensor as the pickle rebuilds it: a view (offset, sizes, strides) of a storage. */
class TensorView {
  constructor(readonly storage: Storage, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

/** A Python dict (OrderedDict or plain): keys in insertion order. */
class PyDict {
  readonly entries = new Map<unknown, unknown>();
}

/** A marker of an allowed class used only as an argument (torch.Tensor, nn.Parameter). */
class PyClass {
  constructor(readonly name: string) {}
}

type Callable = (...args: unknown[]) => unknown;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The most elements a tensor of the file may have (its bytes are in memory already). */
const MAX_ELEMENTS = 2 ** 31 - 1;

export function decodeTorchSave(input: Uint8Array, source = 'torch.save file'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  if (!(input instanceof Uint8Array)) throw new TypeError(`${source}: the bytes must be a Uint8Array`);
  if (!isZipArchive(input)) {
    fail(isBarePickle(input)
      ? 'this is a bare pickle (torch.save with _use_new_zipfile_serialization=False, or PyTorch < 1.6): save again with a current torch.save'
      : 'not a zip archive, so not what torch.save writes');
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(input);
  } catch (e) {
    return fail(`the zip archive cannot be read (${(e as Error).message}): truncated or damaged?`);
  }
  const pkl = Object.keys(files).find((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl === undefined) return fail('the archive holds no data.pkl: not written by torch.save');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = files[prefix + 'byteorder'];
  if (order && new TextDecoder().decode(order).trim() !== 'little') fail('its tensors are stored big-endian; rnnkit reads little-endian files (save on a little-endian machine)');
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof StorageType) || typeof pid[2] !== 'string') {
      return fail(`data.pkl: a persistent id ${describePy(pid)} is not a storage reference`);
    }
    const [, type, key] = pid as [string, StorageType, string];
    const seen = storages.get(key);
    if (seen) return seen;
    const bytes = files[`${prefix}data/${key}`];
    if (bytes === undefined) return fail(`data.pkl names storage ${key}, which the archive lacks (${prefix}data/${key})`);
    if (bytes.length % type.bytes !== 0) fail(`storage ${key} has ${bytes.length} bytes, not a whole number of ${type.name} elements`);
    const s = new Storage(type, bytes, key);
    storages.set(key, s);
    return s;
  };
  const root = unpickle(files[pkl], persistentLoad, fail);
  const tensors: Tensor[] = [];
  const names = new Set<string>();
  // Iterative walk (a hostile file can nest dicts deeper than the JS stack).
  const pending: [string, unknown][] = [['', root]];
  while (pending.length > 0) {
    const [name, value] = pending.pop()!;
    if (value instanceof TensorView) {
      if (name === '') fail('the file holds a single tensor, not a dict of named tensors (save module.state_dict())');
      if (names.has(name)) fail(`two tensors are named ${name}`);
      names.add(name);
      tensors.push({ name, shape: value.size, data: materialize(value, name, fail) });
    } else if (value instanceof PyDict) {
      const entries = [...value.entries].reverse();
      for (const [k, v] of entries) {
        if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') continue;
        pending.push([name === '' ? String(k) : `${name}.${String(k)}`, v]);
      }
    }
  }
  if (tensors.length === 0) fail('the file holds no tensors (save module.state_dict())');
  return { tensors, metadata: {} };
}

/** The float32 values of a tensor view, row-major, after checking that every index is inside its storage. */
function materialize(t: TensorView, name: string, fail: (msg: string) => never): Float32Array {
  const { storage, offset, size, stride } = t;
  if (storage.type.name !== 'FloatStorage') {
    fail(`tensor ${name}: dtype ${storage.type.name.replace('Storage', '')} is not supported; rnnkit reads float32 only (save weights with tensor.float(), and no buffers such as num_batches_tracked)`);
  }
  if (size.length !== stride.length) fail(`tensor ${name}: ${size.length} sizes but ${stride.length} strides`);
  let count = 1;
  let last = offset;
  for (let d = 0; d < size.length; d++) {
    count *= size[d];
    if (count > MAX_ELEMENTS) fail(`tensor ${name}: shape [${size.join(', ')}] has more than ${MAX_ELEMENTS} elements`);
    if (size[d] > 0) last += (size[d] - 1) * stride[d];
  }
  if (count > 0 && last >= storage.length) {
    fail(`tensor ${name}: shape [${size.join(', ')}] with strides [${stride.join(', ')}] from offset ${offset} reaches element ${last} of a storage of ${storage.length}`);
  }
  // Contiguous (what state_dict() holds): one copy of the bytes, little-endian as the host's.
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; expect *= size[d], d--) if (size[d] > 1 && stride[d] !== expect) contiguous = false;
  if (contiguous && LITTLE_ENDIAN_HOST) return new Float32Array(storage.bytes.slice(offset * 4, (offset + count) * 4).buffer);
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.byteLength);
  const out = new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  let at = offset;
  for (let i = 0; i < count; i++) {
    out[i] = view.getFloat32(at * 4, true);
    // Advance the multi-index, last dimension fastest.
    for (let d = size.length - 1; d >= 0; d--) {
      if (++index[d] < size[d]) {
        at += stride[d];
        break;
      }
      at -= (size[d] - 1) * stride[d];
      index[d] = 0;
    }
  }
  return out;
}

/** A short description of a pickled value, for messages. */
function describePy(v: unknown): string {
  if (v instanceof PyClass) return v.name;
  if (Array.isArray(v)) return `(${v.map(describePy).join(', ')})`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return v === null ? 'None' : v instanceof PyDict ? 'a dict' : String(v);
}

const nonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The globals a state dict's pickle may name, and what each builds. */
function globals(fail: (msg: string) => never): Map<string, unknown> {
  const tensorArgs = (where: string, storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorView => {
    if (!(storage instanceof Storage)) return fail(`data.pkl: ${where} of something that is not a storage`);
    if (!nonNegative(offset)) return fail(`data.pkl: ${where}: storage offset ${describePy(offset)} is not a non-negative integer`);
    const ints = (v: unknown, what: string): number[] => {
      if (!Array.isArray(v) || !v.every(nonNegative)) return fail(`data.pkl: ${where}: ${what} ${describePy(v)} must be non-negative integers`);
      return v as number[];
    };
    return new TensorView(storage, offset, ints(size, 'size'), ints(stride, 'stride'));
  };
  const g = new Map<string, unknown>();
  g.set('collections OrderedDict', (() => new PyDict()) as Callable);
  g.set('builtins dict', (() => new PyDict()) as Callable);
  g.set('torch._utils _rebuild_tensor_v2', ((s, o, size, stride) => tensorArgs('_rebuild_tensor_v2', s, o, size, stride)) as Callable);
  g.set('torch._utils _rebuild_tensor', ((s, o, size, stride) => tensorArgs('_rebuild_tensor', s, o, size, stride)) as Callable);
  g.set('torch._utils _rebuild_parameter', ((data) => data) as Callable);
  g.set('torch._utils _rebuild_parameter_with_state', ((data) => data) as Callable);
  // torch ≥ 2: a Tensor or Parameter rebuilt through its type: func(*args) is the tensor.
  g.set('torch._tensor _rebuild_from_type_v2', ((func, _type, args) => {
    if (typeof func !== 'function' || !Array.isArray(args)) return fail('data.pkl: _rebuild_from_type_v2 with unexpected arguments');
    return (func as Callable)(...(args as unknown[]));
  }) as Callable);
  g.set('torch Tensor', new PyClass('torch.Tensor'));
  g.set('torch.nn.parameter Parameter', new PyClass('torch.nn.Parameter'));
  for (const [name, bytes] of Object.entries(STORAGE_TYPES)) g.set(`torch ${name}`, new StorageType(name, bytes));
  return g;
}

const MARK = Symbol('mark');

/**
 * Run `data` (a pickle, protocols 2 to 5) on a machine that knows only what state dicts
 * need. Returns the unpickled root value.
 */
function unpickle(data: Uint8Array, persistentLoad: (pid: unknown) => unknown, fail: (msg: string) => never): unknown {
  const known = globals(fail);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length) fail(`data.pkl is truncated at byte ${pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(data.length)) fail(`data.pkl: a length of ${v} at byte ${pos - 8} exceeds the pickle`);
    return Number(v);
  };
  const str = (n: number) => {
    const at = need(n);
    try {
      return text.decode(data.subarray(at, at + n));
    } catch {
      return fail(`data.pkl: a string at byte ${at} is not UTF-8`);
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail(`data.pkl: the stack is empty at byte ${pos}`);
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const m = stack.lastIndexOf(MARK);
    if (m < 0) fail(`data.pkl: no mark on the stack at byte ${pos}`);
    const items = stack.splice(m);
    items.shift();
    return items;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(`data.pkl: the stack is empty at byte ${pos}`);
    return stack[stack.length - 1];
  };
  const dictAt = (v: unknown): PyDict => (v instanceof PyDict ? v : fail(`data.pkl: a dict item set on ${describePy(v)} at byte ${pos}`));
  const global = (module: string, name: string): unknown => {
    const v = known.get(`${module} ${name}`);
    if (v !== undefined) return v;
    return fail(`the file pickles ${module}.${name}, which a state dict of float32 tensors does not hold (torch.save(model) pickles the whole module and its class); rnnkit reads state dicts: torch.save(model.state_dict(), path)`);
  };
  const call = (f: unknown, args: unknown): unknown => {
    if (typeof f !== 'function' || !Array.isArray(args)) return fail(`data.pkl: cannot call ${describePy(f)} at byte ${pos}`);
    return (f as Callable)(...(args as unknown[]));
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); break; // FRAME (its length is only a read-ahead hint)
      case 0x2e: if (stack.length !== 1) fail(`data.pkl ends with ${stack.length} values on the stack`); return stack[0]; // STOP
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail('data.pkl: APPEND to a non-list'); (l as unknown[]).push(v); break; }
      case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) fail('data.pkl: APPENDS to a non-list'); for (const v of items) (l as unknown[]).push(v); break; }
      case 0x64: { const items = popMark(); const d = new PyDict(); for (let i = 0; i + 1 < items.length; i += 2) d.entries.set(items[i], items[i + 1]); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); dictAt(top()).entries.set(k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); const d = dictAt(top()); if (items.length % 2) fail('data.pkl: SETITEMS with an odd count'); for (let i = 0; i < items.length; i += 2) d.entries.set(items[i], items[i + 1]); break; }
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(u64())); break; // BINUNICODE8
      case 0x42: { const n = u32(); const at = need(n); stack.push(data.slice(at, at + n)); break; } // BINBYTES
      case 0x43: { const n = u8(); const at = need(n); stack.push(data.slice(at, at + n)); break; } // SHORT_BINBYTES
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = u8();
        const at = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]);
        if (n > 0 && data[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`data.pkl: memo ${i} read before it was written (byte ${pos})`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const line = () => {
          const end = data.indexOf(0x0a, pos);
          if (end < 0 || end - pos > 256) fail(`data.pkl: a malformed GLOBAL at byte ${pos}`);
          const s = str(end - pos);
          pos++;
          return s;
        };
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { const name = pop(), module = pop(); if (typeof module !== 'string' || typeof name !== 'string') fail('data.pkl: STACK_GLOBAL of non-strings'); stack.push(global(module as string, name as string)); break; }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(), cls = pop(); stack.push(call(cls, args)); break; } // NEWOBJ
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x62: pop(); break; // BUILD: the state of an OrderedDict (its _metadata) or a tensor's hooks: not needed
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        fail(`data.pkl uses pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}, which state dicts do not need`);
    }
  }
}

/** The directory name inside the archive (torch.save uses the file's stem; any name reads). */
const ARCHIVE = 'archive';
/** Storages start 64-byte aligned, as torch.save lays them out (torch.load(mmap=True) maps them). */
const ALIGN = 64;
/** zip without ZIP64 (fflate's writer): every offset below 4 GiB. */
const ZIP_LIMIT = 2 ** 32 - 1;
/** A fixed time stamp: the same tensors give the same bytes. */
const MTIME = new Date(Date.UTC(2020, 0, 1));

/** A pickle (protocol 2) of an OrderedDict of float32 tensors, each on storage `k` (its index). */
function pickleStateDict(tensors: Tensor[]): Uint8Array {
  const out: number[] = [];
  const utf8 = new TextEncoder();
  const bytes = (...b: number[]) => out.push(...b);
  const text = (s: string) => {
    const b = utf8.encode(s);
    bytes(0x58, b.length & 0xff, (b.length >>> 8) & 0xff, (b.length >>> 16) & 0xff, b.length >>> 24); // BINUNICODE
    for (const x of b) out.push(x);
  };
  const int = (v: number) => bytes(0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff); // BININT
  const global = (module: string, name: string) => {
    bytes(0x63);
    for (const x of utf8.encode(`${module}\n${name}\n`)) out.push(x);
  };
  const tuple = (values: number[]) => {
    bytes(0x28); // MARK
    for (const v of values) int(v);
    bytes(0x74); // TUPLE
  };
  bytes(0x80, 2); // PROTO 2
  global('collections', 'OrderedDict');
  bytes(0x29, 0x52, 0x28); // EMPTY_TUPLE REDUCE MARK
  tensors.forEach((t, k) => {
    text(t.name);
    global('torch._utils', '_rebuild_tensor_v2');
    bytes(0x28, 0x28); // MARK (the arguments) MARK (the persistent id)
    text('storage');
    global('torch', 'FloatStorage');
    text(String(k));
    text('cpu');
    int(t.data.length);
    bytes(0x74, 0x51); // TUPLE BINPERSID
    int(0); // storage offset
    tuple(t.shape);
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    tuple(strides);
    bytes(0x89); // NEWFALSE: requires_grad
    global('collections', 'OrderedDict');
    bytes(0x29, 0x52, 0x74, 0x52); // EMPTY_TUPLE REDUCE (no backward hooks) TUPLE REDUCE
  });
  bytes(0x75, 0x2e); // SETITEMS STOP
  return Uint8Array.from(out);
}

/**
 * `tensors` as the bytes of `torch.save(state_dict, path)`: `torch.load` gives an
 * OrderedDict of float32 tensors under the same names, which `load_state_dict` takes.
 */
export function encodeTorchSave(tensors: Tensor[]): Uint8Array {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new RangeError(`two tensors are named ${t.name}`);
    names.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d < 2 ** 31)) throw new RangeError(`tensor ${t.name}: shape [${t.shape.join(', ')}] must be non-negative integers below 2^31`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`tensor ${t.name}: shape [${t.shape.join(', ')}] needs ${n} values; got ${t.data.length}`);
  }
  const entries: [string, Uint8Array][] = [[`${ARCHIVE}/data.pkl`, pickleStateDict(tensors)]];
  tensors.forEach((t, k) => {
    // Little-endian on every host rnnkit runs on (x64, arm64, wasm).
    const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    entries.push([`${ARCHIVE}/data/${k}`, data]);
  });
  entries.push([`${ARCHIVE}/byteorder`, new TextEncoder().encode('little')], [`${ARCHIVE}/version`, new TextEncoder().encode('3\n')]);
  // fflate lays out each entry as a 30-byte header, its name, its extra field and its bytes:
  // an extra field of padding puts each storage's bytes on a 64-byte boundary.
  const zippable: Zippable = {};
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name).length;
    const pad = (ALIGN - ((offset + 30 + nameBytes + 4) % ALIGN)) % ALIGN;
    const extra = { 0x4246: new Uint8Array(pad) }; // 'FB', the id torch.save pads with
    zippable[name] = [data, { level: 0, mtime: MTIME, extra }];
    offset += 30 + nameBytes + 4 + pad + data.length;
    if (offset > ZIP_LIMIT) throw new RangeError(`the tensors take more than 4 GiB, which this torch.save writer does not support; save as safetensors`);
  }
  return zipSync(zippable);
}
