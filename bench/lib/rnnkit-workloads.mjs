// How rnnkit runs each kind of workload (mode in the shared workloads.json), and how its
// result is checked against the reference backend before anything is timed.
//
// A builder gets { be, ref, layout, training, w, rand } (`layout` and `training` are rnnkit's
// dist/src/backend/layout.js and load.js) and returns { run, check }:
//   run()      one timed iteration (may be async)
//   check()    → { ok, maxAbsErr, worst, tol, shape } comparing `be` with `ref` on the same
//              weights; called once, before timing
// A new mode needs a builder here, listed in BUILDERS and RNNKIT_MODES.
import { normal, uniform } from './random.mjs';

/**
 * Workload modes rnnkit can run today. run.mjs's default selection is the shared workloads
 * of these modes (the local "wordlm" ones run when asked for: see workloads.mjs).
 */
export const RNNKIT_MODES = ['infer', 'step', 'train', 'wordlm'];

/**
 * Compiled vs reference, max |a − b| ≤ CHECK_TOL · max(1, max |reference|). Looser than the
 * golden files' 1e-5 because these cases are far bigger: 384–1024-long float32 dot products
 * summed in a different order (blocked GEMM, FMA), approximate exp, and up to 256 steps of
 * recurrence; a wrong gate order, bias or state carry gives errors of order 0.1–1.
 */
export const CHECK_TOL = 1e-4;
/** Arithmetic spent on the reference for one check (pure TypeScript is slow). */
const CHECK_FLOPS = 4e8;
const STEP_CHECK_STEPS = 16;

const GATES = { lstm: 4, gru: 3 };

export function stackSpec(w) {
  return { cell: w.cell, inputSize: w.I, hiddenSize: w.H, outputSize: w.H, layers: w.layers, bidirectional: false };
}

function forwardFlopsPerToken(w) {
  let f = 0;
  for (let l = 0; l < w.layers; l++) f += 2 * GATES[w.cell] * w.H * ((l === 0 ? w.I : w.H) + w.H);
  return f;
}

/** Weights uniform in ±1/√H, as WORKLOADS.md prescribes (and PyTorch initialises). */
function createStackWithParams(be, spec, params) {
  const stack = be.createStack(spec);
  be.setParams(stack, params);
  return stack;
}

function maxErr(got, want, what, errs) {
  if (!got || got.length !== want.length) {
    throw new Error(`${what}: length ${got ? got.length : 'missing'}, the reference gives ${want.length}`);
  }
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d; // NaN counts as a mismatch
    m = Math.max(m, Math.abs(want[i]));
  }
  errs.push({ what, err: e, scale: Math.max(1, m) });
}

function verdict(errs, shape) {
  const worst = errs.reduce((a, b) => (b.err / b.scale > a.err / a.scale ? b : a));
  const ok = errs.every((x) => x.err <= CHECK_TOL * x.scale);
  return { ok, maxAbsErr: worst.err, worst: worst.what, tol: CHECK_TOL * worst.scale, shape };
}

/**
 * One training step of `batch` on the compiled model `mb` (trainer tb) and the reference
 * model `mr` (trainer rt), from the same parameters; both models are disposed. Compared:
 * the loss, the gradient norm, the whole gradient before the update and the final state.
 */
async function compareFirstStep(tb, mb, rt, mr, batch, shape) {
  const got = await tb.trainStep(mb, batch);
  const want = await rt.trainStep(mr, batch);
  const errs = [];
  maxErr([got.loss], [want.loss], 'loss', errs);
  maxErr([got.totalNorm], [want.totalNorm], 'gradient norm', errs);
  maxErr(tb.getGrads(mb), rt.getGrads(mr), 'gradients', errs);
  maxErr(got.hn, want.hn, 'hn', errs);
  if (want.cn) maxErr(got.cn, want.cn, 'cn', errs);
  tb.disposeModel(mb);
  rt.disposeModel(mr);
  return verdict(errs, shape);
}

function setup({ be, ref, layout, w, rand }) {
  const spec = stackSpec(w);
  const params = uniform(rand, layout.paramLayout(spec).total, 1 / Math.sqrt(w.H));
  const stack = createStackWithParams(be, spec, params);
  const refStack = ref ? () => createStackWithParams(ref, spec, params) : null;
  return { spec, stack, refStack };
}

/** Forward over a whole sequence, no head: lstm-infer-b1, lstm-infer-b64. */
export function buildInfer(ctx) {
  const { be, ref, w, rand } = ctx;
  const { stack, refStack } = setup(ctx);
  const x = normal(rand, w.T * w.B * w.I);
  return {
    run: async () => { await be.forward(stack, { x, steps: w.T, batch: w.B }); },
    check: async () => {
      // Full batch (the GEMM shapes that matter), as many steps as CHECK_FLOPS allows, and a
      // non-zero initial state so that h0/c0 handling is covered too.
      const T = Math.max(2, Math.min(w.T, Math.floor(CHECK_FLOPS / (w.B * forwardFlopsPerToken(w)))));
      const n = w.layers * w.B * w.H;
      const req = { x: normal(rand, T * w.B * w.I), steps: T, batch: w.B, h0: normal(rand, n, 0.5), c0: normal(rand, n, 0.5) };
      const got = await be.forward(stack, req);
      const rs = refStack();
      const want = await ref.forward(rs, req);
      ref.dispose(rs);
      const errs = [];
      maxErr(got.y, want.y, 'y', errs);
      maxErr(got.hn, want.hn, 'hn', errs);
      if (want.cn) maxErr(got.cn, want.cn, 'cn', errs);
      return verdict(errs, `T=${T} B=${w.B}`);
    },
  };
}

/** One streaming step per call from JavaScript, (h, c) carried between calls: lstm-step. */
export function buildStep(ctx) {
  const { be, ref, w, rand } = ctx;
  const { stack, refStack } = setup(ctx);
  const n = w.layers * w.B * w.H;
  const x = normal(rand, w.B * w.I);
  let h = new Float32Array(n);
  let c = new Float32Array(n);
  const step = (xt) => {
    const r = be.forwardSync(stack, { x: xt, steps: 1, batch: w.B, h0: h, c0: c });
    h = r.hn;
    c = r.cn;
    return r.y;
  };
  return {
    run: () => { step(x); },
    check: async () => {
      // STEP_CHECK_STEPS single steps chained through (h, c) must equal one reference
      // forward over the same sequence.
      const T = STEP_CHECK_STEPS;
      const xs = normal(rand, T * w.B * w.I);
      const h0 = normal(rand, n, 0.5);
      const c0 = normal(rand, n, 0.5);
      h = h0;
      c = c0;
      const ys = new Float32Array(T * w.B * w.H);
      for (let t = 0; t < T; t++) ys.set(step(xs.subarray(t * w.B * w.I, (t + 1) * w.B * w.I)), t * w.B * w.H);
      const rs = refStack();
      const want = await ref.forward(rs, { x: xs, steps: T, batch: w.B, h0, c0 });
      ref.dispose(rs);
      const errs = [];
      maxErr(ys, want.y, 'y', errs);
      maxErr(h, want.hn, 'hn', errs);
      if (want.cn) maxErr(c, want.cn, 'cn', errs);
      h = new Float32Array(n);
      c = new Float32Array(n);
      return verdict(errs, `${T} chained steps B=${w.B}`);
    },
  };
}

/**
 * One training window per call: forward, Dense(H→head) + softmax cross-entropy, full BPTT,
 * Adam update — rnnkit's whole-window `trainStep` (lstm-train, gru-train, lstm-train-large).
 */
export async function buildTrain(ctx) {
  const { be, ref, training, w, rand } = ctx;
  const spec = {
    input: { kind: 'dense', size: w.I }, conditionSize: 0, stack: stackSpec(w), outputs: w.head,
    loss: { kind: 'cross_entropy', ignoreIndex: -100 },
  };
  const optimizer = { name: 'adam', lr: 1e-3 };
  const params = uniform(rand, training.modelLayout(spec).total, 1 / Math.sqrt(w.H));
  const make = (tb) => {
    const model = tb.createModel(spec);
    tb.setParams(model, params);
    tb.setOptimizer(model, optimizer);
    return model;
  };
  const batchOf = (T) => {
    const targets = new Int32Array(T * w.B);
    for (let i = 0; i < targets.length; i++) targets[i] = Math.floor(rand() * w.head);
    return { steps: T, batch: w.B, x: normal(rand, T * w.B * w.I), targets };
  };
  const tb = await training.trainingOf(be);
  const model = make(tb);
  const batch = batchOf(w.T);
  return {
    run: async () => { await tb.trainStep(model, batch); },
    check: async () => {
      // The same first step on both, full batch, fewer steps: the loss, the gradient norm,
      // the whole gradient (before the update; Adam's update itself magnifies float32
      // rounding of near-zero gradients, see shared/golden/README.md) and the final state.
      const T = Math.max(2, Math.min(w.T, Math.floor(CHECK_FLOPS / (w.B * 3 * forwardFlopsPerToken(w)))));
      const small = batchOf(T);
      const mb = make(tb);
      const mr = make(await training.trainingOf(ref));
      const rt = await training.trainingOf(ref);
      return compareFirstStep(tb, mb, rt, mr, small, `T=${T} B=${w.B}, one Adam step`);
    },
  };
}

/** Token ids uniform in [0, V). */
function tokenIds(rand, n, V) {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * V);
  return out;
}

/** Arithmetic of one training token of a word-level LM: 3× (stack + head) forward; the embedding lookup is free. */
function wordlmFlopsPerToken(w) {
  return 3 * (forwardFlopsPerToken(w) + 2 * w.H * w.head);
}

/**
 * The spec of a word-level LM workload (bench/lib/wordlm-workloads.json): PyTorch's
 * word_language_model shape, embedding V → I, the stack, Dense(H → V) + softmax
 * cross-entropy, dropout on the embedding output and between the layers. (PyTorch's example
 * also drops the last layer's output before the head; rnnkit's DropoutSpec has no such
 * place, a difference of one elementwise mask on [T·B, H] per step.)
 */
export function wordlmSpec(w) {
  return {
    input: { kind: 'embedding', vocab: w.head, dim: w.I }, conditionSize: 0, stack: stackSpec(w), outputs: w.head,
    loss: { kind: 'cross_entropy', ignoreIndex: -100 },
    dropout: { input: w.dropout, between: w.dropout },
  };
}

/**
 * Word-level LM training, one window per call (wordlm-8k-train, wordlm-33k-train), as
 * peers/wordlm/torch_wordlm.py does it: random token ids and targets (the same window
 * every call), forward + BPTT + global-norm clip (w.clip) + Adam (lr 1e-3), the final
 * (hn, cn) carried into the next call's (h0, c0), a fresh dropout seed per call.
 */
export async function buildWordLM(ctx) {
  const { be, ref, training, w, rand } = ctx;
  const spec = wordlmSpec(w);
  const optimizer = { name: 'adam', lr: 1e-3 };
  const clip = { maxNorm: w.clip };
  const params = uniform(rand, training.modelLayout(spec).total, 1 / Math.sqrt(w.H));
  const make = (tb) => {
    const model = tb.createModel(spec);
    tb.setParams(model, params);
    tb.setOptimizer(model, optimizer, clip);
    return model;
  };
  const batchOf = (T) => ({ steps: T, batch: w.B, tokens: tokenIds(rand, T * w.B, w.head), targets: tokenIds(rand, T * w.B, w.head) });
  const seed = () => Math.floor(rand() * 2 ** 32);
  const nState = w.layers * w.B * w.H;
  const tb = await training.trainingOf(be);
  const model = make(tb);
  const batch = batchOf(w.T);
  let h = new Float32Array(nState);
  let c = new Float32Array(nState);
  return {
    run: async () => {
      const r = await tb.trainStep(model, { ...batch, h0: h, c0: c, dropoutSeed: seed() });
      h = r.hn;
      c = r.cn;
    },
    check: async () => {
      // The same first step on both: full vocabulary and batch, as few steps as CHECK_FLOPS
      // allows (at least 2; the head over V dominates), a carried-in (h0, c0) and a dropout
      // seed (both backends draw the same masks from it: the contract). Compared: loss,
      // gradient norm, the whole gradient before the update, and (hn, cn).
      const T = Math.max(2, Math.min(w.T, Math.floor(CHECK_FLOPS / (w.B * wordlmFlopsPerToken(w)))));
      const small = { ...batchOf(T), h0: normal(rand, nState, 0.5), c0: normal(rand, nState, 0.5), dropoutSeed: seed() };
      const mb = make(tb);
      const rt = await training.trainingOf(ref);
      const mr = make(rt);
      return compareFirstStep(tb, mb, rt, mr, small, `T=${T} B=${w.B} V=${w.head}, dropout ${w.dropout}, clip ${w.clip}, one Adam step`);
    },
  };
}

export const BUILDERS = { infer: buildInfer, step: buildStep, train: buildTrain, wordlm: buildWordLM };
