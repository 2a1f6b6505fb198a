// The corrupt-file suite's child process (test/robustness/corrupt-files.test.ts starts one
// per backend): saves a small model with rnnkit, then loads damaged copies of it with
// RnnModel.load — every truncation of model.safetensors, random bit flips over its header
// and data, hand-made absurd headers, edited config.json files. Each load must either
// succeed with finite parameters identical to the saved ones wherever the bytes were not
// changed, or be refused with a clear Error (an Error whose message names the file or the
// config field — not an engine error such as "Cannot read properties of undefined"). A
// crash, an abort or a hang kills or stalls this process, and the parent reports it.
//
//   node test/robustness/corrupt-child.mjs <backend> <seed> [flips]
//
// Prints one line `RESULT <json>`: how many loads of each kind, how they ended, and the
// first few violations (none expected).
import { copyFileSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelFiles } from './model-files.mjs';

const rnnkit = await import(new URL('../../dist/src/index.js', import.meta.url).href);
const [backend, seedArg, flipsArg] = process.argv.slice(2);
const seed = Number(seedArg ?? 1);
const FLIPS = Number(flipsArg ?? 1000);
await rnnkit.loadBackend(backend);
const work = mkdtempSync(join(tmpdir(), 'rnnkit-corrupt-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const ENGINE = /Cannot read propert|Cannot set propert|is not a function|is not iterable|Invalid typed array length|Array buffer allocation failed|Maximum call stack|out of bounds|memory access|Cannot convert/;
const counts = {};
const violations = [];
const bump = (k) => (counts[k] = (counts[k] ?? 0) + 1);
const violate = (what) => {
  if (violations.length < 20) violations.push(what);
  bump('violations');
};

// A small model of every kind of tensor: embedding, a 2-layer LSTM, a head.
const SPEC = { input: { kind: 'embedding', vocab: 5, dim: 3 }, cell: 'lstm', hiddenSize: 3, layers: 2, outputs: 5, init: { seed: 1 } };
const model = await rnnkit.createModel({ ...SPEC, backend });
model.extra = { note: 'corrupt-file suite' };
const original = model.getParams();
const pristine = join(work, 'pristine');
await model.save(pristine);
model.dispose();
const files = modelFiles(pristine);
const weights = readFileSync(files.weights);
const config = readFileSync(files.config, 'utf8');
const headerLen = Number(weights.readBigUInt64LE(0));
const dataStart = 8 + headerLen;
const header = JSON.parse(weights.subarray(8, dataStart).toString('utf8'));
const metadata = header.__metadata__ ?? {};
/** Whether rnnkit wrote a checksum of the tensor data into the metadata (then every data flip must be refused). */
const hasChecksum = Object.keys(metadata).some((k) => /checksum|crc|sha|hash|digest/i.test(k));

// One scratch copy of the saved directory; each case rewrites its weights or config in place.
const scratch = join(work, 'scratch');
cpSync(pristine, scratch, { recursive: true, verbatimSymlinks: true });
const target = modelFiles(scratch);
const reset = () => {
  copyFileSync(files.weights, target.weights);
  copyFileSync(files.config, target.config);
};

/**
 * Load the scratch model with `bytes` as its weights (or `configText` as its config).
 * `changed(i)`: whether parameter i may differ (its bytes were changed). `mustRefuse`.
 */
async function loadCase(kind, what, { bytes, configText, changed = () => false, mustRefuse = false, allowLoad = true }) {
  reset();
  if (bytes) writeFileSync(target.weights, bytes);
  if (configText !== undefined) writeFileSync(target.config, configText);
  bump(`${kind}.loads`);
  let loaded;
  try {
    loaded = await rnnkit.RnnModel.load(scratch, { backend });
  } catch (e) {
    bump(`${kind}.refused`);
    if (!(e instanceof Error)) return violate(`${kind} ${what}: threw a non-Error ${String(e)}`);
    const msg = `${e.constructor.name}: ${e.message}`;
    if (ENGINE.test(e.message)) return violate(`${kind} ${what}: an engine error, not a clear refusal: ${msg}`);
    // Clear: names the file read (or, for a config, the field: config.spec.…) and says what is wrong.
    if (!/model\.safetensors|\.safetensors|config\.json|config\.spec|config/.test(e.message)) return violate(`${kind} ${what}: the refusal names neither the file nor the field: ${msg}`);
    return;
  }
  bump(`${kind}.loaded`);
  try {
    if (mustRefuse) return violate(`${kind} ${what}: loaded; it must be refused`);
    if (!allowLoad) return violate(`${kind} ${what}: loaded`);
    const p = loaded.getParams();
    if (p.length !== original.length) return violate(`${kind} ${what}: loaded ${p.length} parameters instead of ${original.length}`);
    for (let i = 0; i < p.length; i++) {
      if (!Number.isFinite(p[i])) return violate(`${kind} ${what}: loaded a non-finite parameter [${i}] = ${p[i]}`);
      if (!changed(i) && !Object.is(p[i], original[i])) return violate(`${kind} ${what}: parameter [${i}] is ${p[i]}, saved ${original[i]}, and its bytes were not changed`);
    }
    // The loaded model works.
    const r = await loaded.evaluate({ inputs: [[0, 1, 2]], targets: [[1, 2, 3]] });
    if (!Number.isFinite(r.loss)) violate(`${kind} ${what}: the loaded model evaluates to loss ${r.loss}`);
  } finally {
    loaded.dispose();
  }
}

// A small deterministic generator (seeded from the command line).
let state = (seed * 2654435761 + 1) >>> 0;
const rand = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};

// The tensors' byte ranges in the file, in parameter order (modelLayout order), to know
// which parameter a data byte belongs to.
const layout = rnnkit.modelLayout(rnnkit.resolveModelSpec(SPEC));
const paramOfByte = (byte) => {
  const d = byte - dataStart;
  for (const e of layout.entries) {
    const [b] = header[e.name].data_offsets;
    if (d >= b && d < b + e.size * 4) return e.offset + Math.floor((d - b) / 4);
  }
  return -1;
};

// 0. The saved model itself loads back exactly.
await loadCase('pristine', 'as saved', { bytes: weights });

// 1. Every truncation offset of model.safetensors (0 .. length − 1 bytes kept).
for (let n = 0; n < weights.length; n++) {
  await loadCase('truncate', `to ${n} of ${weights.length} bytes`, { bytes: weights.subarray(0, n), mustRefuse: true });
}
// … and an appended byte, and appended garbage.
await loadCase('truncate', 'one byte appended', { bytes: Buffer.concat([weights, Buffer.from([0])]), mustRefuse: true });

// 2. Random bit flips: half over the header (length field included), half over the data.
for (let k = 0; k < FLIPS; k++) {
  const inHeader = k % 2 === 0;
  const byte = inHeader ? Math.floor(rand() * dataStart) : dataStart + Math.floor(rand() * (weights.length - dataStart));
  const bit = Math.floor(rand() * 8);
  const bytes = Buffer.from(weights);
  bytes[byte] ^= 1 << bit;
  if (inHeader) {
    // A flip in the header may still parse (a space of the padding → another whitespace, say),
    // but whatever loads must be exactly the saved parameters.
    await loadCase('flip-header', `byte ${byte} bit ${bit}`, { bytes });
  } else {
    const p = paramOfByte(byte);
    // With a checksum of the data in the metadata, every data flip must be refused;
    // without one, a flip that leaves the value finite may load (only that value changes).
    await loadCase('flip-data', `byte ${byte} bit ${bit} (parameter ${p})`, { bytes, changed: (i) => i === p, mustRefuse: hasChecksum });
  }
}

// 3. Absurd headers, written by hand.
const tensorNames = layout.entries.map((e) => e.name);
const dataBytes = weights.subarray(dataStart);
function build(headerObj, { data = dataBytes, lengthField } = {}) {
  let json = Buffer.from(typeof headerObj === 'string' ? headerObj : JSON.stringify(headerObj), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthField ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}
/** The saved bytes with another header length field. */
const withLength = (n) => {
  const b = Buffer.from(weights);
  b.writeBigUInt64LE(BigInt(n), 0);
  return b;
};
const withEntry = (name, patch) => ({ ...header, [name]: { ...header[name], ...patch } });
const first = tensorNames[0];
const second = tensorNames[1];
const [b0, e0] = header[first].data_offsets;
const [b1, e1] = header[second].data_offsets;
const absurd = [
  ['header length 2^64 − 1', build(header, { lengthField: 2n ** 64n - 1n })],
  ['header length 2^53', build(header, { lengthField: 2n ** 53n })],
  ['header length 100 MB + 1 (a claim; the file is small)', build(header, { lengthField: 100_000_001n })],
  ['header length 100 MB (a claim)', build(header, { lengthField: 100_000_000n })],
  ['header length 0', build(header, { lengthField: 0n })],
  ['header length 1', build(header, { lengthField: 1n })],
  ['header length one short (the saved bytes)', withLength(headerLen - 1)],
  ['header length one long (the saved bytes)', withLength(headerLen + 1)],
  ['header length 4 long (the saved bytes)', withLength(headerLen + 4)],
  ['empty file', Buffer.alloc(0)],
  ['7 bytes', Buffer.alloc(7)],
  ['8 zero bytes', Buffer.alloc(8)],
  ['header "null"', build('null')],
  ['header "[]"', build('[]')],
  ['header "{}" with data', build('{}')],
  ['header "{}" without data', build('{}', { data: Buffer.alloc(0) })],
  ['header a string', build('"model"')],
  ['header not UTF-8', build(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'))],
  ['header nested 100,000 deep', build('['.repeat(100_000) + ']'.repeat(100_000))],
  ['offsets past the end', build(withEntry(first, { data_offsets: [b0, dataBytes.length + 4] }))],
  ['offsets far past the end (2^53 − 1)', build(withEntry(first, { data_offsets: [b0, Number.MAX_SAFE_INTEGER] }))],
  ['offsets 1e300', build(withEntry(first, { data_offsets: [0, 1e300] }))],
  ['offsets negative', build(withEntry(first, { data_offsets: [-4, e0 - 4] }))],
  ['offsets reversed', build(withEntry(first, { data_offsets: [e0, b0] }))],
  ['offsets fractional', build(withEntry(first, { data_offsets: [b0 + 0.5, e0 + 0.5] }))],
  ['offsets strings', build(withEntry(first, { data_offsets: [String(b0), String(e0)] }))],
  ['offsets three numbers', build(withEntry(first, { data_offsets: [b0, e0, e0] }))],
  ['offsets missing', build(withEntry(first, { data_offsets: undefined }))],
  ['overlapping tensors', build(withEntry(second, { data_offsets: [b1 - 4, e1 - 4] }))],
  ['two tensors on the same bytes', build(withEntry(second, { data_offsets: [b0, e0], shape: header[first].shape }))],
  ['a hole between tensors', build(withEntry(second, { data_offsets: [b1 + 4, e1 + 4] }), { data: Buffer.concat([dataBytes, Buffer.alloc(4)]) })],
  ['dtype F16', build(withEntry(first, { dtype: 'F16' }))],
  ['dtype BF16', build(withEntry(first, { dtype: 'BF16' }))],
  ['dtype F64', build(withEntry(first, { dtype: 'F64' }))],
  ['dtype I32', build(withEntry(first, { dtype: 'I32' }))],
  ['dtype lower-case f32', build(withEntry(first, { dtype: 'f32' }))],
  ['dtype a number', build(withEntry(first, { dtype: 32 }))],
  ['dtype missing', build(withEntry(first, { dtype: undefined }))],
  ['shape with a negative dimension', build(withEntry(first, { shape: [-1, ...header[first].shape.slice(1)] }))],
  ['shape 2^53 × 0', build(withEntry(first, { shape: [2 ** 53, 0] }))],
  ['shape [2^31, 2^31] (product overflows)', build(withEntry(first, { shape: [2 ** 31, 2 ** 31] }))],
  ['shape transposed', build(withEntry(first, { shape: [...header[first].shape].reverse() }))],
  ['shape a string', build(withEntry(first, { shape: '5,3' }))],
  ['shape missing', build(withEntry(first, { shape: undefined }))],
  ['entry null', build({ ...header, [first]: null })],
  ['entry a number', build({ ...header, [first]: 7 })],
  ['tensor renamed', build(Object.fromEntries(Object.entries(header).map(([k, v]) => [k === first ? `${k}.renamed` : k, v])))],
  ['tensor "__proto__"', build(`{"__proto__":${JSON.stringify(header[first])},${JSON.stringify(header).slice(1).replace(`"${first}":`, '"ignored_first":')}`)],
  ['a tensor missing', build(Object.fromEntries(Object.entries(header).filter(([k]) => k !== first)), { data: Buffer.concat([Buffer.alloc(0)]) })],
  ['an extra tensor', build({ ...header, extra: { dtype: 'F32', shape: [1], data_offsets: [dataBytes.length, dataBytes.length + 4] } }, { data: Buffer.concat([dataBytes, Buffer.alloc(4)]) })],
  ['__metadata__ a number', build({ ...header, __metadata__: 5 })],
  ['__metadata__ with a number value', build({ ...header, __metadata__: { ...metadata, format: 5 } })],
  ['__metadata__ an array', build({ ...header, __metadata__: ['pt'] })],
  ['NaN in the data', (() => { const b = Buffer.from(weights); b.writeFloatLE(NaN, dataStart); return b; })()],
  ['Infinity in the data', (() => { const b = Buffer.from(weights); b.writeFloatLE(-Infinity, dataStart + 4); return b; })()],
];
for (const [what, bytes] of absurd) await loadCase('header', what, { bytes, mustRefuse: true });
// Headers that are odd but say the same thing: refused, or loaded as saved.
const same = [
  ['header with a UTF-8 BOM', build('\ufeff' + JSON.stringify(header))],
  ['duplicate tensor name (JSON keeps the last, the right one)', build(`{${JSON.stringify(first)}:${JSON.stringify(header[second])},${JSON.stringify(header).slice(1)}`)],
  ['header re-serialised without padding', build(header)],
  ['tensors listed in reverse order', build(Object.fromEntries(Object.entries(header).reverse()))],
];
for (const [what, bytes] of same) await loadCase('header', what, { bytes });

// A real header of 100 MB + 1 byte (spaces after the JSON): refused before it is parsed.
{
  const big = Buffer.alloc(8 + 100_000_001 + dataBytes.length, 0x20);
  big.writeBigUInt64LE(100_000_001n, 0);
  Buffer.from(JSON.stringify(header)).copy(big, 8);
  dataBytes.copy(big, 8 + 100_000_001);
  const rss0 = process.memoryUsage().rss;
  await loadCase('header', 'a real 100 MB + 1 byte header', { bytes: big, mustRefuse: true });
  counts['header.100MB.rssGrowthMB'] = Math.round((process.memoryUsage().rss - rss0) / 2 ** 20);
}

// 4. Edited configs.
const cfg = JSON.parse(config);
const edit = (f) => {
  const c = structuredClone(cfg);
  f(c);
  return JSON.stringify(c);
};
const configs = [
  // [what, text, may it load?]
  ['not JSON', '{"format": "rnnkit-model",', false],
  ['empty file', '', false],
  ['null', 'null', false],
  ['an array', '[]', false],
  ['a number', '42', false],
  ['format missing', edit((c) => delete c.format), false],
  ['format wrong', edit((c) => (c.format = 'keras')), false],
  ['version 2', edit((c) => (c.version = 2)), false],
  ['version "1"', edit((c) => (c.version = '1')), false],
  ['spec missing', edit((c) => delete c.spec), false],
  ['spec null', edit((c) => (c.spec = null)), false],
  ['spec a string', edit((c) => (c.spec = 'lstm')), false],
  ['spec.input missing', edit((c) => delete c.spec.input), false],
  ['spec.input.vocab missing', edit((c) => delete c.spec.input.vocab), false],
  ['spec.input.kind unknown', edit((c) => (c.spec.input.kind = 'image')), false],
  ['spec.input.vocab "5"', edit((c) => (c.spec.input.vocab = '5')), false],
  ['spec.input.vocab 2^31', edit((c) => (c.spec.input.vocab = 2 ** 31)), false],
  ['spec.input.vocab 6 (tensors do not match)', edit((c) => (c.spec.input.vocab = 6)), false],
  ['spec.input.dim 1e9', edit((c) => (c.spec.input.dim = 1e9)), false],
  ['spec.stack missing', edit((c) => delete c.spec.stack), false],
  ['spec.stack.cell unknown', edit((c) => (c.spec.stack.cell = 'transformer')), false],
  ['spec.stack.cell gru (tensors do not match)', edit((c) => (c.spec.stack.cell = 'gru')), false],
  ['spec.stack.hiddenSize 1e9', edit((c) => (c.spec.stack.hiddenSize = 1e9)), false],
  ['spec.stack.hiddenSize -3', edit((c) => (c.spec.stack.hiddenSize = -3)), false],
  ['spec.stack.hiddenSize 3.5', edit((c) => (c.spec.stack.hiddenSize = 3.5)), false],
  ['spec.stack.hiddenSize null', edit((c) => (c.spec.stack.hiddenSize = null)), false],
  ['spec.stack.layers 1e9', edit((c) => (c.spec.stack.layers = 1e9)), false],
  ['spec.stack.layers 3 (tensors do not match)', edit((c) => (c.spec.stack.layers = 3)), false],
  ['spec.stack.layers "2"', edit((c) => (c.spec.stack.layers = '2')), false],
  ['spec.stack.bidirectional "yes"', edit((c) => (c.spec.stack.bidirectional = 'yes')), false],
  ['spec.stack.bidirectional true (tensors do not match)', edit((c) => (c.spec.stack.bidirectional = true)), false],
  ['spec.stack.inputSize 4 (≠ the input width)', edit((c) => (c.spec.stack.inputSize = 4)), false],
  ['spec.outputs 2^24 + 1', edit((c) => (c.spec.outputs = 2 ** 24 + 1)), false],
  ['spec.outputs missing', edit((c) => delete c.spec.outputs), false],
  ['spec.loss missing', edit((c) => delete c.spec.loss), false],
  ['spec.loss.kind unknown', edit((c) => (c.spec.loss.kind = 'hinge')), false],
  ['spec.loss.ignoreIndex 1.5', edit((c) => (c.spec.loss.ignoreIndex = 1.5)), false],
  ['spec.loss.ignoreIndex 2^32', edit((c) => (c.spec.loss.ignoreIndex = 2 ** 32)), false],
  ['spec.conditionSize 2^31', edit((c) => (c.spec.conditionSize = 2 ** 31)), false],
  ['spec.dropout.between 1', edit((c) => (c.spec.dropout = { input: 0, between: 1 })), false],
  ['spec.encoder a string', edit((c) => (c.spec.encoder = 'gru')), false],
  ['spec.readout unknown', edit((c) => (c.spec.readout = 'middle')), false],
  ['spec 10 MB of padding in extra', edit((c) => (c.extra = { pad: 'x'.repeat(10_000_000) })), true],
  ['extra null', edit((c) => (c.extra = null)), true],
  ['extra replaced', edit((c) => (c.extra = { tokenizer: { kind: 'char' } })), true],
  ['an unknown top-level field', edit((c) => (c.unknown = 1)), true],
  ['spec.dropout added (0.1, 0.2)', edit((c) => (c.spec.dropout = { input: 0.1, between: 0.2 })), true],
  ['"__proto__" in spec', edit((c) => (c.spec = JSON.parse(JSON.stringify(c.spec).replace('{', '{"__proto__":{"hiddenSize":999},')))), true],
];
for (const [what, text, mayLoad] of configs) await loadCase('config', what, { configText: text, bytes: weights, mustRefuse: !mayLoad });
// A config whose JSON nests 100,000 deep.
await loadCase('config', 'nested 100,000 deep', { configText: '['.repeat(100_000) + ']'.repeat(100_000), bytes: weights, mustRefuse: true });

// 5. A damaged directory (the atomic-save layout, when the save made one: dir/.rnnkit/current
// and top-level links through it): a dangling pointer, a version directory gone, a link
// replaced by a damaged real file. Refused clearly, or loaded exactly.
const layout0 = join(pristine, '.rnnkit', 'current');
let layoutCases = 0;
if (existsSync(join(pristine, '.rnnkit')) && lstatSync(layout0, { throwIfNoEntry: false })?.isSymbolicLink()) {
  const fresh = (name) => {
    const d = join(work, name);
    cpSync(pristine, d, { recursive: true, verbatimSymlinks: true });
    return d;
  };
  const loadDir = async (what, dir, mustRefuse) => {
    layoutCases++;
    bump('layout.loads');
    try {
      const m = await rnnkit.RnnModel.load(dir, { backend });
      bump('layout.loaded');
      const p = m.getParams();
      m.dispose();
      if (mustRefuse) return violate(`layout ${what}: loaded; it must be refused`);
      for (let i = 0; i < p.length; i++) if (!Object.is(p[i], original[i])) return violate(`layout ${what}: parameter [${i}] is ${p[i]}, saved ${original[i]}`);
    } catch (e) {
      bump('layout.refused');
      if (!(e instanceof Error) || ENGINE.test(e.message)) return violate(`layout ${what}: not a clear refusal: ${String(e?.message ?? e)}`);
      if (!/model\.safetensors|config\.json|\.rnnkit|current/.test(e.message)) violate(`layout ${what}: the refusal names no file: ${e.message}`);
    }
  };
  {
    const d = fresh('dangling');
    const cur = join(d, '.rnnkit', 'current');
    unlinkSync(cur);
    symlinkSync('m-0-gone', cur);
    await loadDir('current points to a version that does not exist', d, true);
  }
  {
    const d = fresh('version-gone');
    rmSync(join(d, '.rnnkit', readlinkSync(join(d, '.rnnkit', 'current'))), { recursive: true, force: true });
    await loadDir('the current version directory deleted', d, true);
  }
  {
    const d = fresh('replaced');
    unlinkSync(join(d, 'model.safetensors'));
    writeFileSync(join(d, 'model.safetensors'), weights.subarray(0, weights.length - 3));
    await loadDir('model.safetensors replaced by a truncated real file', d, true);
  }
  {
    const d = fresh('replaced-same');
    unlinkSync(join(d, 'config.json'));
    writeFileSync(join(d, 'config.json'), config);
    await loadDir('config.json replaced by an identical real file', d, false);
  }
  {
    const d = fresh('store-gone');
    rmSync(join(d, '.rnnkit'), { recursive: true, force: true });
    await loadDir('.rnnkit deleted (every link dangles)', d, true);
  }
}
counts['layout.cases'] = layoutCases;

process.stdout.write('RESULT ' + JSON.stringify({ backend, seed, flips: FLIPS, hasChecksum, fileBytes: weights.length, headerBytes: headerLen, counts, violations }) + '\n');
