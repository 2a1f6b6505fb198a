// The fuzz suite's child process (test/robustness/fuzz.test.ts starts one per backend and
// seed): fast-check scenarios over the public API of the built package (dist/), each a
// stack or a model created from a random — often hostile — spec, then a random sequence
// of calls with random and hostile arguments. Every call's outcome is checked by an oracle:
//
//   - a call whose arguments are all valid must succeed, and its result must be right
//     (shapes, finite values, a parameter read back exactly as it was set, a saved model
//     loaded back identical);
//   - a call with one corrupted argument must be refused with a TypeError or RangeError
//     whose message names that argument — or, for corruptions the API may accept (a
//     SharedArrayBuffer, a Proxy, a view), succeed with a right result;
//   - a call on a disposed handle, or overlapping a pending call on the same handle, is
//     refused with the documented Error ("… has been disposed", code ERR_RNNKIT_BUSY);
//   - anything else — another error class, an engine error ("Cannot read properties …"),
//     a synchronous throw from an asynchronous method, a wrong result — fails the property
//     (fast-check then shrinks it), and a crash or an abort kills this process, which the
//     parent reports as a failure.
//
// Plain JavaScript on purpose: it runs under `node` (and under ASan via LD_PRELOAD) without
// vitest's transform. Replay one run by hand:
//   node test/robustness/fuzz-child.mjs <backend> <seed> <runs> [path]
// It prints one line `RESULT <json>`: calls made, outcomes by error class, and the failure
// (counterexample, seed, path) if any.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rnnkit = await import(new URL('../../dist/src/index.js', import.meta.url).href);
const [backend, seedArg, runsArg, pathArg] = process.argv.slice(2);
const seed = Number(seedArg);
const numRuns = Number(runsArg);
if (!backend || !Number.isInteger(seed) || !Number.isInteger(numRuns)) {
  console.error('usage: node fuzz-child.mjs <backend> <seed> <runs> [path]');
  process.exit(2);
}
await rnnkit.loadBackend(backend);
// The reference backend computes in float64 TypeScript: keep its calls tiny.
const TINY = backend === 'reference';
const MAX_W = TINY ? 3 : 6;
const work = mkdtempSync(join(tmpdir(), 'rnnkit-fuzz-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// Relative paths (and save('')) land in the scratch directory, never in the repository.
process.chdir(work);

// ---------------------------------------------------------------------------------------
// Bookkeeping and the oracle.

const stats = { calls: 0, ok: 0, refused: {}, runs: 0, known: {}, slow: [] };
let dirCounter = 0;

class OracleFailure extends Error {}
const fail = (msg) => {
  throw new OracleFailure(msg);
};

function describeError(e) {
  if (e instanceof Error) return `${e.constructor.name}${e.code ? ` [${e.code}]` : ''}: ${e.message}`;
  return `non-Error ${typeof e}: ${String(e)}`;
}

// Engine errors are never a clear refusal, whatever they happen to contain.
const ENGINE = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not a constructor|Invalid typed array length|Array buffer allocation failed|Maximum call stack|out of bounds|unreachable|Aborted\(|memory access|Cannot convert|Cannot mix BigInt|Invalid array length/;

/** A rule an outcome may match: a success, an argument error naming `re`, a state error, a busy refusal. */
const OK = { ok: true };
const arg = (re) => ({ arg: re });
const state = (re) => ({ state: re });
const BUSY = { busy: true };
const DIVERGED = { error: 'TrainingDivergedError' };
const SAFETENSORS = (re) => ({ error: 'SafetensorsError', re });
const ABORTED = { error: 'AbortError' };

function matches(rule, r) {
  if (rule.ok) return r.ok;
  if (r.ok) return false;
  const e = r.error;
  if (!(e instanceof Error) || ENGINE.test(e.message)) return false;
  if (rule.arg) return (e instanceof TypeError || e instanceof RangeError) && rule.arg.test(e.message);
  if (rule.state) return rule.state.test(e.message) && (e.constructor === Error || e instanceof TypeError || e instanceof RangeError);
  if (rule.busy) return e.code === 'ERR_RNNKIT_BUSY';
  if (rule.error) return e.name === rule.error && (!rule.re || rule.re.test(e.message));
  return false;
}

const DISPOSED = state(/has been disposed/);

/**
 * Make one call. `how`: 'async' (must return a promise; a synchronous throw fails) or 'sync'.
 * `rules`: the outcomes allowed. `check(value)`: the postcondition of a success.
 */
const TRACE = process.env.RNNKIT_FUZZ_TRACE === '1';
async function call(label, how, fn, rules, check) {
  stats.calls++;
  if (TRACE) process.stderr.write(`${stats.runs} ${label}\n`);
  const t0 = performance.now();
  let r;
  let promise;
  try {
    promise = fn();
  } catch (error) {
    if (how === 'async') fail(`${label}: an asynchronous method threw synchronously (${describeError(error)}); it must return a rejected promise`);
    r = { ok: false, error };
  }
  if (!r) {
    if (how === 'async' && !(promise instanceof Promise)) fail(`${label}: returned ${typeof promise}, not a promise`);
    try {
      r = { ok: true, value: await promise };
    } catch (error) {
      r = { ok: false, error };
    }
  }
  const ms = performance.now() - t0;
  if (ms > 1000) stats.slow.push(`${label}: ${Math.round(ms)} ms`);
  if (!rules.some((rule) => matches(rule, r)) && !knownBug(label, r)) {
    const want = rules.map((x) => (x.ok ? 'success' : x.arg ? `TypeError/RangeError matching ${x.arg}` : x.state ? `Error matching ${x.state}` : x.busy ? 'ERR_RNNKIT_BUSY' : x.error)).join(' or ');
    fail(`${label}: ${r.ok ? 'succeeded' : describeError(r.error)}; expected ${want}`);
  }
  if (r.ok) {
    stats.ok++;
    if (check) await check(r.value);
  } else {
    const k = r.error.code ?? r.error.constructor.name;
    stats.refused[k] = (stats.refused[k] ?? 0) + 1;
  }
  return r;
}

/**
 * Bugs found by this suite and reported, not yet fixed in src/: an outcome matching one is
 * counted (RESULT's `known`, printed by the parent as a warning) instead of failing the
 * run. Remove an entry once it is fixed. Entries are { id, label: RegExp of the call's
 * label, error: RegExp of the error | 'success' }. (Found and since fixed: fit's shuffle
 * unchecked, and an overflowing last update leaving non-finite parameters — 5eadc4c.)
 */
// (Also fixed: a step-1 overflow reported by step 2's NaN loss as "the parameters of step 1
// were kept" — now parametersOverflowed; and lr above float32's largest, which became
// Infinity in the kernels, is refused.)
const KNOWN_BUGS = [];
function knownBug(label, r) {
  const k = KNOWN_BUGS.find((b) => b.label.test(label) && (r.ok ? b.error === 'success' : b.error instanceof RegExp && b.error.test(describeError(r.error))));
  if (!k) return false;
  stats.known[k.id] = (stats.known[k.id] ?? 0) + 1;
  return true;
}

function expectFinite(label, a, n) {
  if (!(a instanceof Float32Array)) fail(`${label}: not a Float32Array (${Object.prototype.toString.call(a)})`);
  if (n !== undefined && a.length !== n) fail(`${label}: length ${a.length}, expected ${n}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) fail(`${label}[${i}] is ${a[i]}`);
}

function expectSame(label, a, b) {
  if (a.length !== b.length) fail(`${label}: length ${a.length}, expected ${b.length}`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) fail(`${label}[${i}] is ${a[i]}, expected ${b[i]}`);
}

// ---------------------------------------------------------------------------------------
// Values: deterministic from a seed, so a scenario is plain data fast-check can shrink.

function values(n, s, scale = 1) {
  const out = new Float32Array(n);
  let x = (s * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}
const ints = (n, s, max) => Array.from(values(n, s), (v) => Math.min(max - 1, Math.floor((v + 1) / 2 * max)));

/** Whether `v` is an integer in min..max (or absent, when the parameter is optional). */
const validInt = (v, min, max, optional) => (optional && (v === undefined || v === null)) || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);

// Hostile scalars. Which of them a parameter must refuse is decided by validInt, so that a
// value that happens to be valid (0 for topK, null for an optional option) is "either".
const HOSTILE_NUMBERS = [0, -1, 1.5, -0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, 1e300, -(2 ** 31), Number.MIN_VALUE];
const HOSTILE_OTHER = [null, undefined, '2', '', true, false, {}, [], [2], 2n, Symbol('s'), () => 1];
const hostileScalar = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.constantFrom(...HOSTILE_OTHER));

// A Float32Array argument of n elements, corrupted (or not) one way. `must`: the API must
// refuse it; otherwise it may accept it (and must then compute as with a plain copy).
const ARRAY_KINDS = {
  ok: { must: false },
  nan: { must: true },
  inf: { must: true },
  ninf: { must: true },
  short: { must: true },
  long: { must: true },
  empty: { must: true },
  f64: { must: true },
  i32: { must: true },
  u8: { must: true },
  plain: { must: true },
  null: { must: true },
  string: { must: true },
  number: { must: true },
  object: { must: true },
  detached: { must: true },
  sab: { must: false },
  view: { must: false },
  proxy: { must: false },
  resizable: { must: false },
  frozenish: { must: false },
};
const arrayKind = fc.constantFrom(...Object.keys(ARRAY_KINDS));

function makeArray(kind, n, s, scale = 1) {
  const v = values(n, s, scale);
  const at = n > 0 ? s % n : 0;
  switch (kind) {
    case 'ok': return v;
    case 'nan': v[at] = NaN; return v;
    case 'inf': v[at] = Infinity; return v;
    case 'ninf': v[at] = -Infinity; return v;
    case 'short': return v.subarray(0, Math.max(0, n - 1));
    case 'long': return values(n + 1 + (s % 7), s);
    case 'empty': return new Float32Array(0);
    case 'f64': return Float64Array.from(v);
    case 'i32': return new Int32Array(n);
    case 'u8': return new Uint8Array(n * 4);
    case 'plain': return Array.from(v);
    case 'null': return null;
    case 'string': return 'x'.repeat(n);
    case 'number': return n;
    case 'object': return { length: n, 0: 1 };
    case 'detached': { structuredClone(v.buffer, { transfer: [v.buffer] }); return v; }
    case 'sab': { const a = new Float32Array(new SharedArrayBuffer(n * 4)); a.set(v); return a; }
    case 'view': { const big = values(n + 9, s + 1); big.set(v, 3); return big.subarray(3, 3 + n); }
    case 'proxy': return new Proxy(v, {});
    case 'resizable': { const b = new ArrayBuffer(n * 4, { maxByteLength: n * 8 + 8 }); const a = new Float32Array(b); a.set(v); return a; }
    case 'frozenish': { const a = v.slice(); Object.preventExtensions(a); return a; }
  }
  throw new Error(`unknown kind ${kind}`);
}

/** The rules for a Float32Array argument named `name` made with `kind`. */
function arrayRules(kind, name, success) {
  return ARRAY_KINDS[kind].must ? [arg(name)] : [success, arg(name)];
}

// ---------------------------------------------------------------------------------------
// Stacks.

const CELLS = rnnkit.CELL_TYPES;
const stackSpecArb = fc.record({
  cell: fc.constantFrom(...CELLS),
  inputSize: fc.integer({ min: 1, max: MAX_W }),
  hiddenSize: fc.integer({ min: 1, max: MAX_W }),
  outputSize: fc.integer({ min: 1, max: MAX_W }),
  layers: fc.integer({ min: 1, max: 2 }),
  bidirectional: fc.boolean(),
});
// One field of the options made hostile (or none), or absurd but well-typed sizes.
const STACK_FIELDS = ['cell', 'inputSize', 'hiddenSize', 'outputSize', 'layers', 'bidirectional', 'params', 'options', 'absurd', 'init.seed'];
const stackMutationArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.record({ field: fc.constantFrom(...STACK_FIELDS), value: hostileScalar, kind: arrayKind, s: fc.nat(1000) }) },
);
const ABSURD_STACKS = [
  { cell: 'lstm', inputSize: 2 ** 15, hiddenSize: 2 ** 15, layers: 1024 },
  { cell: 'gru', inputSize: 1, hiddenSize: 2 ** 24, layers: 1 },
  { cell: 'rnn_tanh', inputSize: 2 ** 24, hiddenSize: 2 ** 10, layers: 1 },
  { cell: 'jordan', inputSize: 4, hiddenSize: 4, outputSize: 2 ** 24 + 1 },
  { cell: 'lstm_peephole', inputSize: 4, hiddenSize: 4, layers: 1025 },
];

const D = (spec) => (spec.bidirectional ? 2 : 1);
const outW = (spec) => (spec.cell === 'jordan' ? spec.outputSize : spec.hiddenSize);
const hasC = (spec) => spec.cell === 'lstm' || spec.cell === 'lstm_peephole';

const shapeArb = fc.record({ steps: fc.integer({ min: 1, max: TINY ? 3 : 6 }), batch: fc.integer({ min: 1, max: TINY ? 2 : 4 }) });
const stackOpArb = fc.oneof(
  fc.record({ op: fc.constant('forward'), sync: fc.boolean(), shape: shapeArb, training: fc.boolean(), h0: fc.boolean(), c0: fc.boolean(), lengths: fc.boolean(),
    bad: fc.constantFrom('none', 'x', 'h0', 'c0', 'lengths', 'steps', 'batch', 'training', 'options'), kind: arrayKind, value: hostileScalar, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('backward'), sync: fc.boolean(), dhn: fc.boolean(), dcn: fc.boolean(), bad: fc.constantFrom('none', 'dy', 'dhn', 'dcn', 'grads'), kind: arrayKind, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('setParameter'), which: fc.nat(40), bad: fc.constantFrom('none', 'data', 'name'), kind: arrayKind, value: hostileScalar, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('read'), which: fc.nat(40), what: fc.constantFrom('getParameter', 'getGradient', 'getFlatParameters', 'getFlatGradients', 'parameters', 'zeroGradients', 'info'), badName: fc.option(hostileScalar, { freq: 4 }) }),
  fc.record({ op: fc.constant('setFlat'), kind: arrayKind, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('tbptt'), shape: shapeArb, window: fc.oneof(fc.integer({ min: 1, max: 4 }), hostileScalar), bad: fc.constantFrom('none', 'x', 'dy', 'window'), kind: arrayKind, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('overlap'), second: fc.constantFrom('forward', 'forwardSync', 'backward', 'setFlat', 'dispose', 'zeroGradients', 'tbptt', 'getFlatParameters'), shape: shapeArb }),
  fc.record({ op: fc.constant('dispose') }),
);

async function runStackScenario(sc) {
  const m = sc.mutation;
  const options = { ...sc.spec, backend };
  if (options.cell !== 'jordan') delete options.outputSize;
  let rules = [OK];
  if (m) {
    if (m.field === 'options') {
      rules = [arg(/options|spec|cell|inputSize|hiddenSize/)];
    } else if (m.field === 'absurd') {
      Object.assign(options, ABSURD_STACKS[m.s % ABSURD_STACKS.length]);
      rules = [arg(/parameters|layers|inputSize|hiddenSize|outputSize|RK_MAX/)];
    } else if (m.field === 'params') {
      rules = null; // computed below, once the parameter count is known
    } else if (m.field === 'init.seed') {
      options.init = { seed: m.value };
      rules = validInt(m.value, -Infinity, Infinity, true) ? [OK] : [arg(/seed/)];
    } else {
      options[m.field] = m.value;
      const valid =
        m.field === 'cell' ? false
        : m.field === 'bidirectional' ? m.value === undefined || m.value === null || typeof m.value === 'boolean'
        : m.field === 'layers' ? validInt(m.value, 1, 1024, true)
        : m.field === 'outputSize' ? (m.value === undefined || m.value === null) || (validInt(m.value, 1, 2 ** 24, false) && (options.cell === 'jordan' || m.value === options.hiddenSize))
        : false; // inputSize, hiddenSize: required widths; the hostile list holds none that is valid and small
      const smallValid = valid && !(typeof m.value === 'number' && m.value > 64);
      rules = smallValid ? [OK, arg(new RegExp(m.field))] : [arg(new RegExp(`${m.field}|parameters`))];
    }
  }
  const arg0 = m?.field === 'options' ? m.value : options;
  if (m?.field === 'params') {
    let total = 0;
    try {
      total = rnnkit.paramLayout(rnnkit.resolveSpec(options)).total;
    } catch (e) {
      fail(`resolveSpec of a valid spec threw ${describeError(e)}`);
    }
    options.params = makeArray(m.kind, total, m.s, 0.5);
    rules = arrayRules(m.kind, /params/, OK);
  }
  const created = await call(`createStack(${m ? m.field : 'valid'})`, 'async', () => rnnkit.createStack(arg0), rules);
  if (!created.ok) return;
  const stack = created.value;
  const spec = stack.spec;
  const names = stack.parameters().map((p) => p.name);
  const total = stack.getFlatParameters().length;
  let disposed = false;
  let trained = null; // { steps, batch } of the last training forward
  let params = stack.getFlatParameters();
  const live = (rules) => (disposed ? [DISPOSED, ...rules.filter((r) => !r.ok)] : rules);

  const forwardArgs = (o) => {
    const { steps, batch } = o.shape;
    const L = spec.layers * D(spec);
    const opts = { steps, batch };
    const x = makeArray(o.bad === 'x' ? o.kind : 'ok', steps * batch * spec.inputSize, o.s);
    if (o.h0 || o.bad === 'h0') opts.h0 = makeArray(o.bad === 'h0' ? o.kind : 'ok', L * batch * outW(spec), o.s + 1);
    if ((o.c0 && hasC(spec)) || o.bad === 'c0') opts.c0 = makeArray(o.bad === 'c0' ? o.kind : 'ok', L * batch * spec.hiddenSize, o.s + 2);
    if (o.lengths) opts.lengths = Int32Array.from({ length: batch }, (_, b) => 1 + ((b + o.s) % steps));
    if (o.training) opts.training = true;
    let rules = [OK];
    if (o.bad === 'x') rules = arrayRules(o.kind, /\bx\b/, OK);
    if (o.bad === 'h0') rules = arrayRules(o.kind, /\bh0\b/, OK);
    if (o.bad === 'c0') rules = hasC(spec) ? arrayRules(o.kind, /\bc0\b/, OK) : [arg(/\bc0\b/)];
    if (o.bad === 'lengths') {
      opts.lengths = o.value;
      rules = [arg(/lengths/)];
      if (o.value === undefined) rules = [OK];
      if (Array.isArray(o.value) && o.value.length === batch && o.value.every((v) => validInt(v, 1, steps))) rules = [OK];
    }
    if (o.bad === 'steps' || o.bad === 'batch') {
      opts[o.bad] = o.value;
      rules = [arg(new RegExp(`${o.bad}|\\bx\\b|\\bh0\\b|\\bc0\\b|lengths`))];
      if (validInt(o.value, 1, 2 ** 31 - 1) && o.value === o.shape[o.bad]) rules = [OK];
    }
    if (o.bad === 'training') {
      opts.training = o.value;
      rules = o.value === undefined || typeof o.value === 'boolean' ? [OK] : [arg(/training/)];
    }
    const optsArg = o.bad === 'options' ? o.value : opts;
    if (o.bad === 'options') rules = [arg(/options|steps/)];
    return { x, opts: optsArg, rules, steps, batch, training: opts.training === true };
  };

  const forwardCheck = (steps, batch) => (r) => {
    expectFinite('forward y', r.y, steps * batch * D(spec) * outW(spec));
    expectFinite('forward hn', r.hn, spec.layers * D(spec) * batch * outW(spec));
    if (hasC(spec)) expectFinite('forward cn', r.cn, spec.layers * D(spec) * batch * spec.hiddenSize);
  };

  const backwardArgs = (o) => {
    const t = trained ?? { steps: 1, batch: 1 };
    const L = spec.layers * D(spec);
    const grads = { dy: makeArray(o.bad === 'dy' ? o.kind : 'ok', t.steps * t.batch * D(spec) * outW(spec), o.s) };
    if (o.dhn || o.bad === 'dhn') grads.dhn = makeArray(o.bad === 'dhn' ? o.kind : 'ok', L * t.batch * outW(spec), o.s + 1);
    if ((o.dcn && hasC(spec)) || o.bad === 'dcn') grads.dcn = makeArray(o.bad === 'dcn' ? o.kind : 'ok', L * t.batch * spec.hiddenSize, o.s + 2);
    let rules = [OK];
    if (o.bad === 'dy') rules = arrayRules(o.kind, /\bdy\b/, OK);
    if (o.bad === 'dhn') rules = arrayRules(o.kind, /\bdhn\b/, OK);
    if (o.bad === 'dcn') rules = hasC(spec) ? arrayRules(o.kind, /\bdcn\b/, OK) : [arg(/\bdcn\b/)];
    if (o.bad === 'grads') rules = [arg(/backward|dy/)];
    if (!trained) rules = [state(/backward needs a preceding forward/), ...rules.filter((r) => !r.ok)];
    return { grads: o.bad === 'grads' ? null : grads, rules, t };
  };

  for (const o of sc.ops) {
    switch (o.op) {
      case 'forward': {
        const a = forwardArgs(o);
        const fn = o.sync ? () => stack.forwardSync(a.x, a.opts) : () => stack.forward(a.x, a.opts);
        const r = await call(`stack.forward${o.sync ? 'Sync' : ''}(bad ${o.bad}:${o.kind}/${String(o.value)})`, o.sync ? 'sync' : 'async', fn, live(a.rules), forwardCheck(a.steps, a.batch));
        if (r.ok && a.training) trained = { steps: a.steps, batch: a.batch };
        break;
      }
      case 'backward': {
        const a = backwardArgs(o);
        const fn = o.sync ? () => stack.backwardSync(a.grads) : () => stack.backward(a.grads);
        await call(`stack.backward${o.sync ? 'Sync' : ''}(bad ${o.bad}:${o.kind})`, o.sync ? 'sync' : 'async', fn, live(a.rules), (r) => {
          expectFinite('dx', r.dx, a.t.steps * a.t.batch * spec.inputSize);
          expectFinite('gradients', stack.getFlatGradients(), total);
        });
        break;
      }
      case 'setParameter': {
        const name = names[o.which % names.length];
        const entry = stack.parameters()[o.which % names.length];
        const n = entry.shape.reduce((p, q) => p * q, 1);
        const data = makeArray(o.bad === 'data' ? o.kind : 'ok', n, o.s, 0.5);
        const nameArg = o.bad === 'name' ? o.value : name;
        const rules = o.bad === 'name' ? [arg(/name/)] : o.bad === 'data' ? arrayRules(o.kind, new RegExp(`data|${name}`), OK) : [OK];
        const r = await call(`stack.setParameter(bad ${o.bad}:${o.kind})`, 'sync', () => stack.setParameter(nameArg, data), live(rules));
        if (r.ok) {
          const back = stack.getParameter(name);
          const want = Float32Array.from(data);
          expectSame(`getParameter(${name}) after setParameter`, back, want);
          params = stack.getFlatParameters();
        }
        break;
      }
      case 'read': {
        const name = o.badName !== null ? o.badName : names[o.which % names.length];
        const rules = o.badName !== null && !(typeof o.badName === 'string' && names.includes(o.badName)) ? [arg(/name/)] : [OK];
        const fns = {
          getParameter: () => stack.getParameter(name),
          getGradient: () => stack.getGradient(name),
          getFlatParameters: () => stack.getFlatParameters(),
          getFlatGradients: () => stack.getFlatGradients(),
          parameters: () => stack.parameters(),
          zeroGradients: () => stack.zeroGradients(),
          info: () => stack.info,
        };
        const named = o.what === 'getParameter' || o.what === 'getGradient';
        // parameters() and info describe the stack (no backend call): they answer after dispose too.
        const meta = o.what === 'parameters' || o.what === 'info';
        const r = await call(`stack.${o.what}`, 'sync', fns[o.what], meta ? [OK] : live(named ? rules : [OK]));
        if (r.ok && o.what === 'getFlatParameters') expectSame('getFlatParameters', r.value, params);
        if (r.ok && o.what === 'getFlatGradients') expectFinite('getFlatGradients', r.value, total);
        break;
      }
      case 'setFlat': {
        const flat = makeArray(o.kind, total, o.s, 0.5);
        const r = await call(`stack.setFlatParameters(${o.kind})`, 'sync', () => stack.setFlatParameters(flat), live(arrayRules(o.kind, /flat|params/, OK)));
        if (r.ok) {
          params = Float32Array.from(flat);
          expectSame('getFlatParameters after setFlatParameters', stack.getFlatParameters(), params);
        }
        break;
      }
      case 'tbptt': {
        const { steps, batch } = o.shape;
        const x = makeArray(o.bad === 'x' ? o.kind : 'ok', steps * batch * spec.inputSize, o.s);
        const dy = makeArray(o.bad === 'dy' ? o.kind : 'ok', steps * batch * D(spec) * outW(spec), o.s + 1);
        let rules = o.bad === 'x' ? arrayRules(o.kind, /\bx\b/, OK) : o.bad === 'dy' ? arrayRules(o.kind, /\bdy\b/, OK) : [OK];
        const window = o.bad === 'window' || typeof o.window !== 'number' ? o.window : o.window;
        if (!validInt(window, 1, Infinity)) rules = [arg(/window/)];
        if (spec.bidirectional) rules = [arg(/bidirectional|unidirectional|window/), ...rules.filter((q) => !q.ok)];
        const r = await call(`stack.truncatedBptt(bad ${o.bad}:${o.kind}, window ${String(window)})`, 'async', () => stack.truncatedBptt({ x, steps, batch, window, dy }), live(rules), (res) => {
          expectFinite('tbptt gradients', stack.getFlatGradients(), total);
          if (res && res.hn) expectFinite('tbptt hn', res.hn);
        });
        if (r.ok) trained = null;
        break;
      }
      case 'overlap': {
        // A valid forward is pending; a second call on the same stack must be refused.
        if (disposed) break;
        const a = forwardArgs({ shape: o.shape, bad: 'none', s: 1, training: true });
        const first = stack.forward(a.x, a.opts);
        first.catch(() => undefined);
        const second = {
          forward: ['async', () => stack.forward(a.x, a.opts)],
          forwardSync: ['sync', () => stack.forwardSync(a.x, a.opts)],
          backward: ['async', () => stack.backward({ dy: new Float32Array(1) })],
          setFlat: ['sync', () => stack.setFlatParameters(params)],
          dispose: ['sync', () => stack.dispose()],
          zeroGradients: ['sync', () => stack.zeroGradients()],
          tbptt: ['async', () => stack.truncatedBptt({ x: a.x, steps: a.steps, batch: a.batch, window: 1, dy: new Float32Array(a.steps * a.batch * D(spec) * outW(spec)) })],
          getFlatParameters: ['sync', () => stack.getFlatParameters()],
        }[o.second];
        // Reads are refused only while the backend computes; a write or a call always.
        const rules = o.second === 'getFlatParameters' ? [OK, BUSY] : [BUSY];
        await call(`stack.${o.second} during a pending forward`, second[0], second[1], rules);
        await call('the pending forward', 'async', () => first, [OK], forwardCheck(a.steps, a.batch));
        trained = { steps: a.steps, batch: a.batch };
        break;
      }
      case 'dispose':
        await call('stack.dispose()', 'sync', () => stack.dispose(), [OK]);
        disposed = true;
        break;
    }
  }
  if (!disposed) stack.dispose();
}

// ---------------------------------------------------------------------------------------
// Models.

const inputArb = fc.oneof(
  fc.record({ kind: fc.constant('embedding'), vocab: fc.integer({ min: 1, max: 8 }), dim: fc.integer({ min: 1, max: MAX_W }), frozen: fc.option(fc.boolean(), { nil: undefined }) }),
  fc.record({ kind: fc.constant('onehot'), vocab: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('dense'), size: fc.integer({ min: 1, max: MAX_W }) }),
);
const modelSpecArb = fc.record({
  input: inputArb,
  cell: fc.constantFrom(...CELLS),
  hiddenSize: fc.integer({ min: 1, max: MAX_W }),
  layers: fc.integer({ min: 1, max: 2 }),
  bidirectional: fc.boolean(),
  outputs: fc.integer({ min: 1, max: 8 }),
  loss: fc.constantFrom('cross_entropy', 'mse'),
  conditionSize: fc.constantFrom(0, 0, 0, 2),
  readout: fc.constantFrom('steps', 'steps', 'final_state'),
  dropout: fc.option(fc.record({ input: fc.constantFrom(0, 0.3), between: fc.constantFrom(0, 0.5) }), { nil: undefined }),
  encoder: fc.option(inputArb, { freq: 5, nil: undefined }),
  initSeed: fc.nat(100),
});
const MODEL_FIELDS = ['input', 'input.kind', 'input.vocab', 'input.dim', 'input.size', 'input.frozen', 'cell', 'hiddenSize', 'layers', 'bidirectional', 'outputs', 'loss',
  'conditionSize', 'readout', 'dropout.input', 'dropout.between', 'encoder', 'encoder.input', 'ignoreIndex', 'options', 'absurd'];
const ABSURD_MODELS = [
  { input: { kind: 'embedding', vocab: 2 ** 24, dim: 64 } },
  { input: { kind: 'onehot', vocab: 2 ** 24 }, hiddenSize: 64 },
  { outputs: 2 ** 24, hiddenSize: 4096 },
  { layers: 1024, hiddenSize: 2 ** 12 },
  { conditionSize: 2 ** 24 },
];

function modelOptionsOf(s) {
  const o = { input: { ...s.input }, cell: s.cell, hiddenSize: s.hiddenSize, layers: s.layers, bidirectional: s.bidirectional, outputs: s.outputs, loss: s.loss, backend, init: { seed: s.initSeed } };
  if (o.input.frozen === undefined) delete o.input.frozen;
  if (s.conditionSize) o.conditionSize = s.conditionSize;
  if (s.readout !== 'steps') o.readout = s.readout;
  if (s.dropout) o.dropout = s.dropout;
  if (s.encoder) {
    o.encoder = { input: { ...s.encoder } };
    if (o.encoder.input.frozen === undefined) delete o.encoder.input.frozen;
  }
  return o;
}

const seqArb = fc.record({ n: fc.integer({ min: 1, max: TINY ? 3 : 5 }), maxLen: fc.integer({ min: 1, max: TINY ? 3 : 5 }), s: fc.nat(1000) });
const DATA_BADS = ['none', 'id-high', 'id-neg', 'id-frac', 'id-nan', 'empty-seq', 'dense-nan', 'dense-len', 'target-high', 'target-len', 'label-bad', 'both', 'inputs-type',
  'inputs-empty', 'seq-string', 'detached', 'typed', 'sab', 'targets-missing', 'condition-bad', 'source-bad', 'data-null'];
const dataBadArb = fc.constantFrom(...DATA_BADS);

/** A dataset for `spec` (its shapes), corrupted one way; `must` says whether it must be refused. */
function makeData(spec, d, bad, supervised = true) {
  const lens = Array.from({ length: d.n }, (_, i) => 1 + ((d.s + i * 7) % d.maxLen));
  const seq = (input, len, s) => (input.kind === 'dense' ? Array.from(values(len * input.size, s)) : ints(len, s, input.vocab));
  const data = { inputs: lens.map((len, i) => seq(spec.input, len, d.s + i)) };
  const ce = spec.loss.kind === 'cross_entropy';
  if (supervised) {
    if (spec.readout === 'final_state') data.labels = lens.map((_, i) => (ce ? ints(1, d.s + 50 + i, spec.outputs)[0] : Array.from(values(spec.outputs, d.s + 50 + i))));
    else data.targets = lens.map((len, i) => (ce ? ints(len, d.s + 90 + i, spec.outputs) : Array.from(values(len * spec.outputs, d.s + 90 + i))));
  }
  if (spec.conditionSize) data.conditions = lens.map((_, i) => Array.from(values(spec.conditionSize, d.s + 130 + i)));
  if (spec.encoder) data.sources = lens.map((_, i) => seq(spec.encoder.input, 1 + ((d.s + i) % d.maxLen), d.s + 170 + i));
  const k = d.s % d.n;
  const tokens = spec.input.kind !== 'dense';
  let names = null; // the regex a refusal must match, when the corruption must be refused
  let either = false;
  const set = (field, v, re) => {
    data[field][k] = v;
    names = re;
  };
  switch (bad) {
    case 'none': break;
    case 'id-high': if (tokens) set('inputs', [...data.inputs[k].slice(1), spec.input.vocab], /inputs/); break;
    case 'id-neg': if (tokens) set('inputs', [-1], /inputs/); break;
    case 'id-frac': if (tokens) set('inputs', [0.5], /inputs/); break;
    case 'id-nan': set('inputs', tokens ? [NaN] : data.inputs[k].map((v, i) => (i === 0 ? NaN : v)), /inputs/); break;
    case 'empty-seq': set('inputs', [], /inputs/); break;
    case 'dense-nan': if (!tokens) set('inputs', data.inputs[k].map((v, i) => (i === data.inputs[k].length - 1 ? Infinity : v)), /inputs/); break;
    case 'dense-len': if (!tokens && spec.input.size > 1) set('inputs', data.inputs[k].slice(1), /inputs/); break;
    case 'target-high':
      if (data.targets && ce) set('targets', data.targets[k].map((v, i) => (i === 0 ? spec.outputs : v)), /targets/);
      else if (data.labels && ce) set('labels', spec.outputs, /labels/);
      break;
    case 'target-len': if (data.targets) set('targets', data.targets[k].concat(ce ? [0] : data.targets[k]), /targets/); break;
    case 'label-bad': if (data.labels) set('labels', ce ? 'x' : [NaN], /labels/); break;
    case 'both': if (supervised) { data.targets = data.targets ?? data.labels; data.labels = data.labels ?? data.targets; names = /targets|labels/; } break;
    case 'inputs-type': data.inputs = 'abc'; names = /inputs/; break;
    case 'inputs-empty': data.inputs = []; names = /inputs/; break;
    case 'seq-string': set('inputs', '012', /inputs/); break;
    case 'detached': {
      const a = Float32Array.from(data.inputs[k]);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      set('inputs', a, /inputs/);
      break;
    }
    case 'typed': data.inputs[k] = Float32Array.from(data.inputs[k]); break;
    case 'sab': { const a = new Float32Array(new SharedArrayBuffer(data.inputs[k].length * 4)); a.set(data.inputs[k]); data.inputs[k] = a; either = true; break; }
    case 'targets-missing': if (supervised) { delete data.targets; delete data.labels; names = /targets|labels/; } break;
    case 'condition-bad':
      if (spec.conditionSize) set('conditions', [1], /conditions/);
      else { data.conditions = data.inputs.map(() => [1]); names = /conditions|conditionSize/; }
      break;
    case 'source-bad':
      if (spec.encoder) set('sources', [], /sources/);
      else { data.sources = data.inputs; names = /sources|encoder/; }
      break;
    case 'data-null': return { data: null, names: /data/, lens };
  }
  return { data, names, either, lens, k };
}

const fitOptionArb = fc.record({
  bad: fc.constantFrom('none', 'none', 'epochs', 'batchSize', 'window', 'optimizer.name', 'optimizer.lr', 'optimizer', 'clip', 'shuffle', 'seed', 'validationSplit',
    'validationData', 'earlyStopping', 'learningRate', 'learningRateNaN', 'onProgress', 'checkpoint', 'resume', 'resetOptimizer', 'signal', 'options', 'abortLong', 'hugeLr'),
  value: hostileScalar,
  optimizer: fc.constantFrom('sgd', 'adam', 'adamw', 'rmsprop'),
  batchSize: fc.integer({ min: 1, max: 3 }),
  window: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
});

const genArb = fc.record({
  bad: fc.constantFrom('none', 'none', 'start', 'steps', 'temperature', 'topK', 'topP', 'bannedTokens', 'bannedAll', 'repetitionPenalty', 'seed', 'condition', 'source', 'options'),
  value: hostileScalar,
  steps: fc.integer({ min: 0, max: 6 }),
  temperature: fc.constantFrom(0, 0.7, 1.5),
  s: fc.nat(1000),
});

const sessionArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  bad: fc.constantFrom('none', 'none', 'batch', 'prompts', 'prompt-id', 'tokens', 'token-id', 'state', 'maxLength', 'topP', 'stopTokens', 'sample-first', 'model-disposed', 'overlap'),
  value: hostileScalar,
  s: fc.nat(1000),
});

const modelOpArb = fc.oneof(
  fc.record({ op: fc.constant('fit'), data: seqArb, dataBad: fc.oneof({ weight: 4, arbitrary: fc.constant('none') }, { weight: 3, arbitrary: dataBadArb }), fit: fitOptionArb }),
  fc.record({ op: fc.constant('evaluate'), data: seqArb, dataBad: dataBadArb, batchSize: fc.oneof(fc.integer({ min: 1, max: 4 }), hostileScalar), stream: fc.constantFrom(undefined, true, false, 'yes') }),
  fc.record({ op: fc.constant('predict'), data: seqArb, dataBad: dataBadArb, batchSize: fc.oneof(fc.integer({ min: 1, max: 4 }), hostileScalar), lastStep: fc.boolean() }),
  fc.record({ op: fc.constant('generate'), g: genArb }),
  fc.record({ op: fc.constant('session'), ses: sessionArb }),
  fc.record({ op: fc.constant('params'), kind: arrayKind, s: fc.nat(1000) }),
  fc.record({ op: fc.constant('stateDict'), bad: fc.constantFrom('none', 'missing', 'extra', 'shape', 'nan', 'not-array', 'entry-null', 'data-type'), s: fc.nat(1000) }),
  fc.record({ op: fc.constant('saveLoad'), bad: fc.constantFrom('none', 'none', 'dir-empty', 'dir-number', 'dir-missing', 'dir-file', 'weights') }),
  fc.record({ op: fc.constant('forecast'), data: seqArb, horizon: fc.oneof(fc.integer({ min: 1, max: 4 }), hostileScalar), dataBad: fc.constantFrom('none', 'none', 'dense-nan', 'dense-len', 'empty-seq', 'data-null') }),
  fc.record({ op: fc.constant('overlap'), first: fc.constantFrom('fit', 'evaluate', 'predict'), second: fc.constantFrom('fit', 'evaluate', 'predict', 'setParams', 'dispose', 'getParams', 'generate', 'createSession', 'save') }),
  fc.record({ op: fc.constant('dispose') }),
);

function fitOptions(f, spec, data, lens) {
  const o = { epochs: 1, batchSize: f.batchSize, optimizer: { name: f.optimizer, lr: 0.01 }, seed: 1 };
  if (f.window !== undefined && !spec.stack.bidirectional) o.window = f.window;
  const v = f.value;
  let rules = [OK];
  const setNum = (key, min, max, re, optional = true) => {
    o[key] = v;
    rules = validInt(v, min, max, optional) ? [OK, arg(re)] : [arg(re)];
  };
  switch (f.bad) {
    case 'epochs':
      setNum('epochs', 1, Infinity, /epochs/);
      // An absurd but valid count (2^31, 1e300) trains until aborted: abort it.
      if (validInt(v, 4, Infinity)) { o.signal = AbortSignal.timeout(10); rules = [ABORTED]; }
      break;
    case 'batchSize': setNum('batchSize', 1, Infinity, /batchSize/); break;
    case 'window':
      setNum('window', 1, Infinity, /window/);
      if (spec.stack.bidirectional && v !== undefined && v !== null) rules = [arg(/window/)];
      if (spec.stack.bidirectional && validInt(v, Math.max(...lens), Infinity)) rules = [OK];
      break;
    case 'optimizer.name': o.optimizer = { name: v, lr: 0.01 }; rules = [arg(/optimizer|name/)]; break;
    case 'optimizer.lr': o.optimizer = { name: f.optimizer, lr: v }; rules = typeof v === 'number' && v >= 0 && Number.isFinite(v) ? [OK, arg(/lr/), DIVERGED] : v === undefined || v === null ? [OK, arg(/lr|optimizer/)] : [arg(/lr|optimizer/)]; break;
    case 'optimizer': o.optimizer = v; rules = v === undefined || v === null ? [OK, arg(/optimizer/)] : [arg(/optimizer/)]; break;
    // An object without maxNorm / clipValue (an array, say) clips nothing: accepted.
    case 'clip': o.clip = v; rules = v === undefined || v === null || (typeof v === 'object' && v !== null) ? [OK, arg(/clip/)] : [arg(/clip/)]; break;
    case 'shuffle': o.shuffle = v; rules = v === undefined || typeof v === 'boolean' ? [OK] : v === null ? [OK, arg(/shuffle/)] : [arg(/shuffle/)]; break;
    case 'seed': setNum('seed', -Infinity, Infinity, /seed/); break;
    case 'validationSplit': o.validationSplit = v; rules = v === undefined ? [OK] : typeof v === 'number' && v > 0 && v < 1 ? [OK, arg(/validationSplit/)] : [arg(/validationSplit/)]; break;
    case 'validationData': o.validationData = v; rules = v === undefined ? [OK] : [arg(/validationData/)]; break;
    case 'earlyStopping': o.earlyStopping = v; rules = v === undefined ? [OK] : v === null || typeof v === 'object' ? [OK, arg(/earlyStopping/)] : [arg(/earlyStopping/)]; break;
    // A schedule may return any valid rate — () => 1 with RMSprop diverged (random seed
    // 1399246436): a TrainingDivergedError is then the right answer, as for optimizer.lr.
    case 'learningRate': o.learningRate = v; rules = v === undefined ? [OK] : typeof v === 'function' ? [OK, arg(/learningRate/), DIVERGED] : [arg(/learningRate/)]; break;
    case 'learningRateNaN': o.learningRate = () => NaN; rules = [arg(/learningRate/)]; break;
    case 'onProgress': o.onProgress = v; rules = v === undefined ? [OK] : typeof v === 'function' ? [OK] : [arg(/onProgress/)]; break;
    case 'checkpoint': o.checkpoint = v; rules = v === undefined ? [OK] : [arg(/checkpoint/)]; break;
    case 'resume': o.resume = v === '' || typeof v !== 'string' ? v : join(work, 'no-such-checkpoint'); rules = v === undefined ? [OK] : typeof v === 'string' && v !== '' ? [state(/resume|checkpoint|no-such-checkpoint/), arg(/resume/)] : [arg(/resume/)]; break;
    case 'resetOptimizer': o.resetOptimizer = v; rules = v === undefined || typeof v === 'boolean' ? [OK] : [arg(/resetOptimizer/)]; break;
    case 'signal': o.signal = AbortSignal.abort(new Error('fuzz abort')); rules = [ABORTED]; break;
    case 'options': return { options: v, rules: v === undefined || (typeof v === 'object' && v !== null) ? [OK, arg(/options/)] : [arg(/options/)] };
    case 'abortLong': o.epochs = 2 ** 40; o.signal = AbortSignal.timeout(5); rules = [ABORTED, OK]; break; // absurd epochs, aborted
    case 'hugeLr': o.optimizer = { name: 'sgd', lr: 1e30 }; rules = [OK, DIVERGED]; break;
  }
  // Options read as `options.x ?? default` take null for "not given": accepted too.
  const fromValue = !['none', 'signal', 'learningRateNaN', 'hugeLr', 'abortLong', 'optimizer.name', 'validationData'].includes(f.bad);
  if (fromValue && v === null && !rules.some((r) => r.ok)) rules = [OK, ...rules];
  return { options: o, rules };
}

const canGenerate = (spec) => spec.input.kind !== 'dense' && spec.loss.kind === 'cross_entropy' && spec.readout !== 'final_state' && !spec.stack.bidirectional && spec.outputs <= spec.input.vocab;

async function runModelScenario(sc) {
  const m = sc.mutation;
  const options = modelOptionsOf(sc.spec);
  let rules = [OK];
  let arg0 = options;
  if (m) {
    const v = m.value;
    const [a, b] = m.field.split('.');
    if (m.field === 'options') { arg0 = v; rules = [arg(/options|input|cell|hiddenSize|outputs/)]; }
    else if (m.field === 'absurd') { Object.assign(options, ABSURD_MODELS[m.s % ABSURD_MODELS.length]); rules = [arg(/parameters|vocab|dim|outputs|layers|conditionSize|hiddenSize|inputSize|RK_MAX/)]; }
    else if (m.field === 'ignoreIndex') { options.ignoreIndex = v; rules = validInt(v, -(2 ** 31), 2 ** 31 - 1, true) ? [OK] : options.loss === 'mse' ? [OK, arg(/ignoreIndex/)] : [arg(/ignoreIndex/)]; }
    else if (b === undefined) {
      options[a] = v;
      const optional = ['layers', 'bidirectional', 'loss', 'conditionSize', 'readout', 'dropout', 'encoder'].includes(a);
      const isValid = (optional && (v === undefined)) || (a === 'bidirectional' && typeof v === 'boolean') || (a === 'conditionSize' && validInt(v, 0, 64, true)) || (a === 'layers' && validInt(v, 1, 4, true));
      rules = isValid ? [OK, arg(new RegExp(a))] : optional && v === null ? [OK, arg(new RegExp(a))] : [arg(new RegExp(`${a}|parameters`))];
    } else {
      if (options[a] === undefined || typeof options[a] !== 'object') options[a] = a === 'encoder' ? { input: { kind: 'onehot', vocab: 3 } } : {};
      options[a] = { ...options[a], [b]: v };
      const optional = m.field === 'input.frozen' || a === 'dropout';
      rules = optional ? [OK, arg(new RegExp(`${a}|${b}`))] : [arg(new RegExp(`${a}|${b}|parameters`))];
      if (m.field === 'input.frozen' && typeof v === 'boolean' && options.input.kind === 'embedding') rules = [OK];
      if (m.field === 'input.size' && options.input.kind !== 'dense') rules = [OK, arg(/input/)];
      if ((m.field === 'input.dim') && options.input.kind !== 'embedding') rules = [OK, arg(/input/)];
      if (m.field === 'input.vocab' && options.input.kind === 'dense') rules = [OK, arg(/input/)];
    }
  }
  const created = await call(`createModel(${m ? m.field : 'valid'})`, 'async', () => rnnkit.createModel(arg0), rules);
  if (!created.ok) return;
  const model = created.value;
  const spec = model.spec;
  let disposed = false;
  let params = model.getParams();
  expectFinite('initial params', params);
  const live = (rules) => (disposed ? [DISPOSED, ...rules.filter((r) => !r.ok && !r.error)] : rules);
  const dataRules = (made, success) => (made.names ? (made.either ? [success, arg(made.names)] : [arg(made.names)]) : [success]);

  for (const o of sc.ops) {
    switch (o.op) {
      case 'fit': {
        const made = makeData(spec, o.data, o.dataBad);
        const f = fitOptions(o.fit, spec, made.data, made.lens);
        let rules = made.names ? dataRules(made, OK) : f.rules;
        if (made.names && !made.either) rules = [arg(made.names)];
        if (o.fit.bad === 'options') rules = made.names ? [arg(new RegExp(`${made.names.source}|options`))] : f.rules;
        if (o.fit.bad === 'signal' && made.names) rules = [ABORTED, arg(made.names)];
        if (made.names && o.fit.bad !== 'none') rules = [...rules, ...f.rules.filter((r) => !r.ok)];
        // validationSplit must leave a sequence on each side; a single-sequence dataset cannot be split.
        if (o.fit.bad === 'validationSplit') rules = [...rules, arg(/validationSplit/)];
        const r = await call(`model.fit(data ${o.dataBad}, ${o.fit.bad}=${String(o.fit.value)})`, 'async', () => model.fit(made.data, f.options), live(rules), (res) => {
          const ignoresAClass = spec.loss.kind === 'cross_entropy' && spec.loss.ignoreIndex >= 0 && spec.loss.ignoreIndex < spec.outputs;
          for (const e of res.epochs) if (!Number.isFinite(e.loss) && !ignoresAClass) fail(`fit epoch loss ${e.loss}`);
        });
        if (!disposed) {
          params = model.getParams();
          const lr = o.fit.bad === 'hugeLr' ? 1e30 : o.fit.bad === 'optimizer.lr' && typeof o.fit.value === 'number' ? o.fit.value : 0.01;
          // A fit that resolved left finite parameters (checked below); one whose update
          // overflowed them is a TrainingDivergedError that says they are unusable
          // (parametersOverflowed), so after a huge learning rate they are put back.
          if (lr >= 1e10) {
            const diverged = !r.ok && r.error?.name === 'TrainingDivergedError';
            if (diverged && !r.error.parametersOverflowed && !params.every(Number.isFinite)) {
              // A divergence that says the parameters were kept must have kept finite ones.
              fail(`fit with lr ${lr}: TrainingDivergedError says the parameters were kept, but they are non-finite`);
            } else if (!(diverged && r.error.parametersOverflowed)) {
              expectFinite(`params after a fit with lr ${lr} that ${r.ok ? 'resolved' : 'was refused'}`, params);
            }
            // Finite but huge parameters overflow later calls: start the next ones from small ones.
            model.setParams(values(params.length, 5, 0.3));
            params = model.getParams();
          }
          expectFinite('params after fit', params);
        }
        break;
      }
      case 'evaluate': {
        const made = makeData(spec, o.data, o.dataBad);
        let rules = dataRules(made, OK);
        const opts = { batchSize: o.batchSize, stream: o.stream };
        const bsValid = validInt(o.batchSize, 1, Infinity, true);
        const streamValid = o.stream === undefined || typeof o.stream === 'boolean';
        if (!bsValid && o.stream !== true) rules = [...rules.filter((q) => !q.ok), arg(/batchSize/)];
        if (!streamValid) rules = [...rules.filter((q) => !q.ok), arg(/stream/)];
        if (o.stream === true && (spec.stack.bidirectional || spec.encoder)) rules = [...rules.filter((q) => !q.ok), arg(/stream/)];
        await call(`model.evaluate(data ${o.dataBad}, batchSize ${String(o.batchSize)}, stream ${String(o.stream)})`, 'async', () => model.evaluate(made.data, opts), live(rules), (res) => {
          // No counted position (every target the ignore index): NaN, as a mean over nothing.
          if (!Number.isFinite(res.loss) && res.count !== 0) fail(`evaluate loss ${res.loss} over ${res.count} positions`);
        });
        break;
      }
      case 'predict': {
        const made = makeData(spec, o.data, o.dataBad, false);
        let rules = dataRules(made, OK);
        if (!validInt(o.batchSize, 1, Infinity, true)) rules = [...rules.filter((q) => !q.ok), arg(/batchSize/)];
        // A dataset without targets is fine for predict; targets given are ignored.
        await call(`model.predict(data ${o.dataBad}, batchSize ${String(o.batchSize)})`, 'async', () => model.predict(made.data, { batchSize: o.batchSize, lastStep: o.lastStep }), live(rules), (res) => {
          if (res.length !== made.data.inputs.length) fail(`predict returned ${res.length} outputs for ${made.data.inputs.length} sequences`);
          res.forEach((out, i) => {
            const len = made.lens[i];
            const want = spec.readout === 'final_state' || o.lastStep ? spec.outputs : len * spec.outputs;
            expectFinite(`predict[${i}]`, out, want);
          });
        });
        break;
      }
      case 'generate': {
        const g = o.g;
        const V = spec.input.kind === 'dense' ? 1 : spec.input.vocab;
        const opts = { start: ints(1 + (g.s % 3), g.s, V), steps: g.steps, temperature: g.temperature, seed: g.s };
        if (spec.conditionSize) opts.condition = Array.from(values(spec.conditionSize, g.s));
        if (spec.encoder) opts.source = spec.encoder.input.kind === 'dense' ? Array.from(values(spec.encoder.input.size * 2, g.s)) : ints(2, g.s, spec.encoder.input.vocab);
        let rules = [OK];
        const v = g.value;
        switch (g.bad) {
          // [2] is among the hostile values, and a valid start where the vocabulary has id 2.
          case 'start': opts.start = v; rules = Array.isArray(v) && v.length > 0 && v.every((t) => validInt(t, 0, V - 1)) ? [OK] : [arg(/start|options|inputs/)]; break;
          case 'steps': opts.steps = v; rules = validInt(v, 0, 1e6) ? [OK] : [arg(/steps/)]; if (validInt(v, 7, 1e6)) rules = [arg(/steps/), OK]; break;
          case 'temperature': opts.temperature = v; rules = v === undefined || v === null || (typeof v === 'number' && v >= 0 && Number.isFinite(v)) ? [OK, arg(/temperature/)] : [arg(/temperature/)]; break;
          case 'topK': opts.topK = v; rules = validInt(v, 0, 2 ** 53, true) ? [OK, arg(/topK/)] : [arg(/topK/)]; break;
          case 'topP': opts.topP = v; rules = v === undefined || v === null || (typeof v === 'number' && v > 0 && v <= 1) ? [OK, arg(/topP/)] : [arg(/topP/)]; break;
          case 'bannedTokens': opts.bannedTokens = [v]; rules = [arg(/bannedTokens/)]; if (validInt(v, 0, spec.outputs - 1) && spec.outputs > 1) rules = [OK]; break;
          case 'bannedAll': opts.bannedTokens = Array.from({ length: spec.outputs }, (_, i) => i); rules = [arg(/bannedTokens/)]; break;
          case 'repetitionPenalty': opts.repetitionPenalty = v; rules = v === undefined || v === null || (typeof v === 'number' && v >= 1 && Number.isFinite(v)) ? [OK, arg(/repetitionPenalty/)] : [arg(/repetitionPenalty/)]; break;
          case 'seed': opts.seed = v; rules = validInt(v, -Infinity, Infinity, true) ? [OK] : [arg(/seed/)]; break;
          // A falsy value reads as "not given". A hostile [2] is valid where it fits: a condition
          // of size 1, a source of one token id 2 (or one step of a one-feature dense encoder).
          case 'condition': opts.condition = v; rules = spec.conditionSize ? (Array.isArray(v) && v.length === spec.conditionSize && v.every(Number.isFinite) ? [OK] : [arg(/condition/)]) : !v ? [OK, arg(/condition/)] : [arg(/condition/)]; break;
          case 'source': {
            opts.source = v;
            const enc = spec.encoder?.input;
            const fits = enc && Array.isArray(v) && v.length > 0 && (enc.kind === 'dense' ? v.length % enc.size === 0 && v.every(Number.isFinite) : v.every((t) => validInt(t, 0, enc.vocab - 1)));
            rules = spec.encoder ? (fits ? [OK] : [arg(/source/)]) : !v ? [OK, arg(/source/)] : [arg(/source/)];
            break;
          }
          case 'options': rules = [arg(/options|start|steps/)]; break;
        }
        if (!canGenerate(spec)) rules = [arg(/generate|options|start|steps|temperature|topK|topP|bannedTokens|repetitionPenalty|seed|condition|source/)];
        const optArg = g.bad === 'options' ? v : opts;
        await call(`model.generate(${g.bad}=${String(v)})`, 'sync', () => model.generate(optArg), live(rules), (tokens) => {
          if (!Array.isArray(tokens) || tokens.length > Math.max(0, opts.steps)) fail(`generate returned ${tokens.length} tokens for steps ${opts.steps}`);
          for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= spec.outputs) fail(`generate returned token ${t} (outputs ${spec.outputs})`);
        });
        break;
      }
      case 'session':
        if (await sessionOps(model, spec, o.ses, disposed)) disposed = true;
        break;
      case 'params': {
        const flat = makeArray(o.kind, params.length, o.s, 0.5);
        const r = await call(`model.setParams(${o.kind})`, 'sync', () => model.setParams(flat), live(arrayRules(o.kind, /flat|params/, OK)));
        if (r.ok) {
          params = Float32Array.from(flat);
          expectSame('getParams after setParams', model.getParams(), params);
        }
        if (!disposed) await call('model.getParams()', 'sync', () => model.getParams(), [OK], (p) => expectSame('getParams', p, params));
        break;
      }
      case 'stateDict': {
        if (disposed) {
          await call('model.stateDict() after dispose', 'sync', () => model.stateDict(), [DISPOSED]);
          break;
        }
        const sd = model.stateDict();
        let tensors = sd.map((t) => ({ ...t, data: t.data.slice() }));
        let rules = [OK];
        const k = o.s % tensors.length;
        switch (o.bad) {
          case 'missing': tensors.splice(k, 1); rules = [SAFETENSORS(/missing/), arg(/missing|tensor/)]; break;
          case 'extra': tensors.push({ name: 'extra.weight', shape: [1], data: new Float32Array(1) }); rules = [SAFETENSORS(/extra\.weight/), arg(/extra\.weight/)]; break;
          case 'shape': tensors[k] = { ...tensors[k], shape: [...tensors[k].shape, 1, 2] }; rules = [SAFETENSORS(/shape/), arg(/shape/)]; break;
          case 'nan': tensors[k].data[o.s % tensors[k].data.length] = NaN; rules = [SAFETENSORS(/finite/), arg(/finite/)]; break;
          case 'not-array': tensors = { length: 3 }; rules = [arg(/tensors/)]; break;
          case 'entry-null': tensors[k] = null; rules = [arg(/tensor|tensors/), SAFETENSORS(/tensor/)]; break;
          case 'data-type': tensors[k] = { ...tensors[k], data: Array.from(tensors[k].data) }; rules = [OK, arg(/data|tensor/), SAFETENSORS(/data|tensor/)]; break;
        }
        const r = await call(`model.loadStateDict(${o.bad})`, 'sync', () => model.loadStateDict(tensors), rules);
        if (r.ok) expectSame('params after loadStateDict', model.getParams(), params);
        else expectSame('params after a refused loadStateDict', model.getParams(), params);
        break;
      }
      case 'saveLoad': {
        const dir = join(work, `m${dirCounter++}`);
        if (o.bad === 'dir-file') writeFileSync(dir, 'a file');
        const target = { 'dir-empty': '', 'dir-number': 42, 'dir-missing': join(work, 'none', 'x'), 'dir-file': dir }[o.bad] ?? dir;
        if (o.bad === 'dir-empty' || o.bad === 'dir-number' || o.bad === 'dir-file') {
          await call(`model.save(${o.bad})`, 'async', () => model.save(target), live([arg(/dir|path/), state(/dir|path|EEXIST|ENOTDIR|EISDIR/)]));
          await call(`RnnModel.load(${o.bad})`, 'async', () => rnnkit.RnnModel.load(target, { backend }), [arg(/dir|path/), state(/config|dir|path/)]);
          break;
        }
        if (o.bad === 'dir-missing') {
          await call('RnnModel.load(missing)', 'async', () => rnnkit.RnnModel.load(target, { backend }), [state(/cannot read the model config|ENOENT/)]);
          break;
        }
        const saved = await call('model.save(dir)', 'async', () => model.save(dir), live([OK]));
        if (!saved.ok) break;
        await call('RnnModel.load(dir)', 'async', () => rnnkit.RnnModel.load(dir, { backend }), [OK], (loaded) => {
          expectSame('loaded params', loaded.getParams(), params);
          if (JSON.stringify(loaded.spec) !== JSON.stringify(spec)) fail(`loaded spec ${JSON.stringify(loaded.spec)} differs from ${JSON.stringify(spec)}`);
          loaded.dispose();
        });
        break;
      }
      case 'forecast': {
        const can = spec.input.kind === 'dense' && spec.loss.kind === 'mse' && spec.outputs === spec.input.size && !spec.conditionSize && !spec.encoder && spec.readout !== 'final_state' && !spec.stack.bidirectional;
        const made = makeData(spec, o.data, o.dataBad, false);
        const history = made.data ? made.data.inputs[made.names ? made.k : 0] : null;
        let rules = made.names ? [arg(/history|inputs|data/)] : [OK];
        if (!validInt(o.horizon, 1, 64)) rules = validInt(o.horizon, 1, 2 ** 53) ? [arg(/horizon/)] : [...rules.filter((q) => !q.ok), arg(/horizon/)];
        if (!can) rules = [arg(/forecast|horizon|history/)];
        // A valid but absurd horizon (2^31, 2^53) must be refused (bounded like generate's steps), never run for hours.
        await call(`model.forecast(horizon ${String(o.horizon)}, ${o.dataBad})`, 'sync', () => model.forecast(history, o.horizon), live(rules), (out) => expectFinite('forecast', out, o.horizon * spec.input.size));
        break;
      }
      case 'overlap': {
        if (disposed) break;
        const made = makeData(spec, { n: 2, maxLen: 2, s: 3 }, 'none');
        const pending = { fit: () => model.fit(made.data, { epochs: 1 }), evaluate: () => model.evaluate(made.data), predict: () => model.predict(made.data) }[o.first]();
        pending.catch(() => undefined);
        const dir = join(work, `m${dirCounter++}`);
        const second = {
          fit: ['async', () => model.fit(made.data)],
          evaluate: ['async', () => model.evaluate(made.data)],
          predict: ['async', () => model.predict(made.data)],
          setParams: ['sync', () => model.setParams(params)],
          dispose: ['sync', () => model.dispose()],
          getParams: ['sync', () => model.getParams()],
          generate: ['sync', () => model.generate({ start: [0], steps: 2 })],
          createSession: ['sync', () => model.createSession()],
          save: ['async', () => model.save(dir)],
        }[o.second];
        const reads = ['getParams', 'generate', 'save'];
        const rules = reads.includes(o.second) ? [BUSY, OK, arg(/generate|start|condition|source/), state(/./)] : [BUSY];
        const r = await call(`model.${o.second} during a pending ${o.first}`, second[0], second[1], rules);
        if (r.ok && o.second === 'generate' && !canGenerate(spec)) fail('generate succeeded on a model that cannot generate');
        await call(`the pending ${o.first}`, 'async', () => pending, [OK]);
        params = model.getParams();
        break;
      }
      case 'dispose':
        await call('model.dispose()', 'sync', () => model.dispose(), [OK]);
        disposed = true;
        break;
    }
  }
  if (!disposed) model.dispose();
}

async function sessionOps(model, spec, ses, disposed) {
  const can = spec.input.kind !== 'dense' && spec.readout !== 'final_state' && !spec.stack.bidirectional;
  const V = spec.input.kind === 'dense' ? 1 : spec.input.vocab;
  const opts = { batch: ses.batch };
  if (spec.conditionSize) opts.condition = Array.from({ length: ses.batch }, (_, b) => Array.from(values(spec.conditionSize, ses.s + b)));
  if (spec.encoder) opts.source = Array.from({ length: ses.batch }, (_, b) => (spec.encoder.input.kind === 'dense' ? Array.from(values(spec.encoder.input.size, b)) : ints(2, ses.s + b, spec.encoder.input.vocab)));
  let rules = can ? [OK] : [arg(/session|token input|readout|unidirectional/)];
  if (ses.bad === 'batch') {
    opts.batch = ses.value;
    if (!validInt(ses.value, 1, 64, true) || ((spec.conditionSize || spec.encoder) && ses.value !== ses.batch && ses.value !== undefined && ses.value !== null)) rules = [...rules.filter((q) => !q.ok), arg(/batch|conditions|sources|options/)];
  }
  const created = await call(`model.createSession(${ses.bad})`, 'sync', () => model.createSession(opts), disposed ? [DISPOSED, ...rules.filter((q) => !q.ok)] : rules);
  if (!created.ok) return false;
  const session = created.value;
  const B = session.batch;
  const prompts = Array.from({ length: B }, (_, b) => ints(1 + ((ses.s + b) % 3), ses.s + b, V));
  if (ses.bad === 'sample-first') {
    await call('session.sample before prime', 'async', async () => { for await (const _ of session.sample({ maxLength: 2 })) void _; }, [state(/prime|logits/), arg(/sample|cross-entropy|outputs/)]);
    session.dispose();
    return false;
  }
  let pr = prompts;
  let prRules = [OK];
  if (ses.bad === 'prompts') { pr = ses.value; prRules = [arg(/prompts/)]; }
  if (ses.bad === 'prompt-id') { pr = prompts.map((p, b) => (b === 0 ? [...p, V] : p)); prRules = [arg(/prompts/)]; }
  await call(`session.prime(${ses.bad})`, 'async', () => session.prime(pr), prRules, (logits) => expectFinite('prime logits', logits, B * spec.outputs));
  if (ses.bad === 'overlap') {
    // Every overlapping call starts before anything is awaited: on wasm and reference the
    // pending step has settled once the microtasks after it have run.
    const p = session.step(Array(B).fill(0));
    p.catch(() => undefined);
    const again = session.step(Array(B).fill(0));
    again.catch(() => undefined);
    const fit = model.fit({ inputs: [[0]], targets: [[0]] });
    fit.catch(() => undefined);
    await call('session.step during a pending step', 'async', () => again, [BUSY]);
    await call('model.fit during a pending session step', 'async', () => fit, [BUSY]);
    await call('the pending step', 'async', () => p, [OK]);
  }
  if (ses.bad === 'model-disposed') {
    await call('model.dispose() with a live session', 'sync', () => model.dispose(), [OK]);
    await call('session.step after its model was disposed', 'async', () => session.step(Array(B).fill(0)), [DISPOSED]);
    await call('session.getState after its model was disposed', 'sync', () => session.getState(), [DISPOSED]);
    await call('session.dispose after its model was disposed', 'sync', () => session.dispose(), [OK, DISPOSED]);
    return true;
  }
  let tokens = Array(B).fill(0);
  let tRules = [OK];
  // A hostile [2] is one valid token per row where the batch is 1 and the vocabulary has id 2.
  if (ses.bad === 'tokens') {
    tokens = ses.value;
    const fits = Array.isArray(tokens) && tokens.length === B && tokens.every((t) => validInt(t, 0, V - 1));
    tRules = fits ? [OK] : [arg(/tokens/)];
  }
  if (ses.bad === 'token-id') { tokens = tokens.map((t, b) => (b === B - 1 ? V : t)); tRules = [arg(/tokens/)]; }
  await call(`session.stepSync(${ses.bad})`, 'sync', () => session.stepSync(tokens), tRules, (logits) => expectFinite('step logits', logits, B * spec.outputs));
  const st = await call('session.getState()', 'sync', () => session.getState(), [OK], (s) => expectFinite('state h', s.h));
  if (ses.bad === 'state' && st.ok) {
    const h = st.value.h.slice();
    h[0] = NaN;
    await call('session.setState(NaN h)', 'sync', () => session.setState({ h }), [arg(/state\.h/)]);
    await call('session.setState(long c)', 'sync', () => session.setState({ h: st.value.h, c: new Float32Array((st.value.c?.length ?? 0) + 1) }), st.value.c ? [arg(/state\.c/)] : [OK]);
    await call('session.setState(h as Array)', 'sync', () => session.setState({ h: Array.from(st.value.h) }), [arg(/state\.h/)]);
    await call('session.setState(null)', 'sync', () => session.setState(null), [OK, arg(/state/)]);
  }
  const sampleOpts = { maxLength: 3, temperature: 0.8, seed: ses.s, stopTokens: [0] };
  let sRules = spec.loss.kind === 'cross_entropy' && spec.outputs <= V ? [OK] : [arg(/sample|cross-entropy|outputs/)];
  if (ses.bad === 'maxLength') { sampleOpts.maxLength = ses.value; if (!validInt(ses.value, 1, Number.MAX_SAFE_INTEGER)) sRules = [...sRules.filter((q) => !q.ok), arg(/maxLength/)]; }
  if (ses.bad === 'topP') { sampleOpts.topP = ses.value; if (!(ses.value === undefined || ses.value === null || (typeof ses.value === 'number' && ses.value > 0 && ses.value <= 1))) sRules = [...sRules.filter((q) => !q.ok), arg(/topP/)]; }
  if (ses.bad === 'stopTokens') { sampleOpts.stopTokens = [ses.value]; if (!validInt(ses.value, 0, spec.outputs - 1)) sRules = [...sRules.filter((q) => !q.ok), arg(/stopTokens/)]; }
  if (typeof sampleOpts.maxLength === 'number' && sampleOpts.maxLength > 50 && Number.isSafeInteger(sampleOpts.maxLength)) sampleOpts.maxLength = 3; // a huge valid maxLength streams: not here
  await call(`session.sample(${ses.bad}=${String(ses.value)})`, 'async', async () => {
    let n = 0;
    for await (const toks of session.sample(sampleOpts)) {
      if (toks.length !== B) fail(`sample yielded ${toks.length} tokens for batch ${B}`);
      for (const t of toks) if (!(t === -1 || (Number.isInteger(t) && t >= 0 && t < spec.outputs))) fail(`sample yielded token ${t}`);
      n++;
    }
    return n;
  }, sRules);
  await call('session.dispose()', 'sync', () => session.dispose(), [OK]);
  await call('session.step after dispose', 'async', () => session.step(Array(B).fill(0)), [state(/GenerationSession has been disposed/)]);
  return false;
}

// ---------------------------------------------------------------------------------------
// The property.

const stackScenario = fc.record({ kind: fc.constant('stack'), spec: stackSpecArb, mutation: stackMutationArb, ops: fc.array(stackOpArb, { minLength: 1, maxLength: 14 }) });
const modelMutationArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.record({ field: fc.constantFrom(...MODEL_FIELDS), value: hostileScalar, s: fc.nat(1000) }) },
);
const modelScenario = fc.record({ kind: fc.constant('model'), spec: modelSpecArb, mutation: modelMutationArb, ops: fc.array(modelOpArb, { minLength: 1, maxLength: 10 }) });
const scenario = fc.oneof(stackScenario, modelScenario);

const property = fc.asyncProperty(scenario, async (sc) => {
  stats.runs++;
  if (sc.kind === 'stack') await runStackScenario(sc);
  else await runModelScenario(sc);
});

const started = Date.now();
const details = await fc.check(property, { seed, numRuns, path: pathArg || undefined, endOnFailure: false, interruptAfterTimeLimit: Number(process.env.RNNKIT_FUZZ_TIME_LIMIT_MS ?? 150_000), markInterruptAsFailure: false });
const out = { backend, seed, numRuns, calls: stats.calls, runs: stats.runs, ok: stats.ok, refused: stats.refused, known: stats.known, slow: stats.slow.slice(0, 10), ms: Date.now() - started };
if (details.failed) {
  const e = details.errorInstance;
  out.failure = {
    seed: details.seed,
    path: details.counterexamplePath,
    shrinks: details.numShrinks,
    message: e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e),
    stack: e instanceof OracleFailure ? undefined : e?.stack,
    counterexample: fc.stringify(details.counterexample),
  };
}
if (details.interrupted && !details.failed) out.interrupted = true;
process.stdout.write('RESULT ' + JSON.stringify(out) + '\n');
