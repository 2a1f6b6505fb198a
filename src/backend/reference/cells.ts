/**
 * One time step of every recurrent cell, forward and backward, for ONE sequence of the
 * batch, in float64. This file is the specification of the cells: the formulas are those
 * of shared/golden/README.md ("Cell formulas"), the gate order and parameter names those
 * of ../layout.ts (PyTorch's: LSTM i, f, g, o; GRU r, z, n).
 *
 * Conventions
 * - `w` maps a parameter's base name (`weight_ih`, `bias_hh`, `peephole_i`, …, without the
 *   `_l0_reverse` suffix) to its values for one layer and direction; `g` maps the same
 *   names to the gradient arrays that backward ADDS into.
 * - The state passed from step to step is `h` (width S) and, for the LSTMs, `c` (width H).
 *   For every cell the step's output equals its new state h'. For the Jordan cell the
 *   state is the previous output y (width S = O), and its hidden layer is internal.
 * - `forward` returns the new state plus a record of what `backward` needs; `backward`
 *   receives dL/dh' and dL/dc' (the total gradient of the new state) and returns
 *   dL/dx, dL/dh, dL/dc of the step's inputs, adding the parameter gradients into `g`.
 */
import type { CellType } from '../contract.js';
import { addInto, addMatTVec, addMatVec, addOuter, sigmoid } from './math.js';

export type CellWeights = Record<string, Float64Array>;

export interface CellDims {
  /** Width of x. */
  input: number;
  /** Width of the hidden layer H. */
  hidden: number;
  /** Width S of the recurrent state h (O for Jordan, H otherwise). */
  state: number;
}

export interface StepOutput<R> {
  h: Float64Array;
  /** New cell state (LSTM cells), null otherwise. */
  c: Float64Array | null;
  record: R;
}

export interface StepGradients {
  dx: Float64Array;
  dh: Float64Array;
  dc: Float64Array | null;
}

export interface Cell<R> {
  forward(w: CellWeights, dims: CellDims, x: Float64Array, h: Float64Array, c: Float64Array | null): StepOutput<R>;
  backward(
    w: CellWeights,
    g: CellWeights,
    dims: CellDims,
    record: R,
    dh: Float64Array,
    dc: Float64Array | null,
  ): StepGradients;
}

/** W_ih x + b_ih + W_hh h + b_hh for rows [row0, row0 + rows) (a gate block's pre-activation). */
function preActivation(w: CellWeights, dims: CellDims, row0: number, rows: number, x: Float64Array, h: Float64Array): Float64Array {
  const a = new Float64Array(rows);
  for (let r = 0; r < rows; r++) a[r] = w.bias_ih[row0 + r] + w.bias_hh[row0 + r];
  addMatVec(a, w.weight_ih, row0, rows, dims.input, x);
  addMatVec(a, w.weight_hh, row0, rows, dims.hidden, h);
  return a;
}

/**
 * Gradient of W_ih x + b_ih + W_hh h + b_hh for all G·H rows at once, given dL/da:
 * adds the weight and bias gradients into `g` and returns dL/dx and dL/dh.
 */
function backPreActivation(w: CellWeights, g: CellWeights, dims: CellDims, da: Float64Array, x: Float64Array, h: Float64Array) {
  const rows = da.length;
  addOuter(g.weight_ih, 0, rows, dims.input, da, x);
  addOuter(g.weight_hh, 0, rows, dims.hidden, da, h);
  addInto(g.bias_ih, da);
  addInto(g.bias_hh, da);
  const dx = new Float64Array(dims.input);
  const dh = new Float64Array(dims.hidden);
  addMatTVec(dx, w.weight_ih, 0, rows, dims.input, da);
  addMatTVec(dh, w.weight_hh, 0, rows, dims.hidden, da);
  return { dx, dh };
}

// ---------------------------------------------------------------------------------------
// rnn_tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh);  rnn_relu: h' = max(0, same)

interface RnnRecord {
  x: Float64Array;
  h: Float64Array;
  a: Float64Array;
  hNew: Float64Array;
}

function plainRnn(activation: 'tanh' | 'relu'): Cell<RnnRecord> {
  return {
    forward(w, dims, x, h) {
      const a = preActivation(w, dims, 0, dims.hidden, x, h);
      const hNew = a.map((v) => (activation === 'tanh' ? Math.tanh(v) : Math.max(0, v)));
      return { h: hNew, c: null, record: { x, h, a, hNew } };
    },
    backward(w, g, dims, rec, dhNew) {
      // tanh' = 1 − tanh²; relu' = 1 where a > 0, else 0 (PyTorch's choice at a = 0).
      const da = dhNew.map((d, k) => (activation === 'tanh' ? d * (1 - rec.hNew[k] * rec.hNew[k]) : rec.a[k] > 0 ? d : 0));
      const { dx, dh } = backPreActivation(w, g, dims, da, rec.x, rec.h);
      return { dx, dh, dc: null };
    },
  };
}

// ---------------------------------------------------------------------------------------
// lstm and lstm_peephole (gate rows i, f, g, o):
//   i = σ(a_i [+ p_i * c]), f = σ(a_f [+ p_f * c]), g = tanh(a_g),
//   c' = f * c + i * g,     o = σ(a_o [+ p_o * c']),  h' = o * tanh(c')
// where a = W_ih x + b_ih + W_hh h + b_hh. The peepholes look at the previous c for i and
// f, and at the new c' for o.

interface LstmRecord {
  x: Float64Array;
  h: Float64Array;
  c: Float64Array;
  i: Float64Array;
  f: Float64Array;
  gg: Float64Array;
  o: Float64Array;
  cNew: Float64Array;
  tanhC: Float64Array;
}

function lstm(peephole: boolean): Cell<LstmRecord> {
  return {
    forward(w, dims, x, h, cPrev) {
      const H = dims.hidden;
      const c = cPrev as Float64Array;
      const a = preActivation(w, dims, 0, 4 * H, x, h);
      const i = new Float64Array(H);
      const f = new Float64Array(H);
      const gg = new Float64Array(H);
      const o = new Float64Array(H);
      const cNew = new Float64Array(H);
      const tanhC = new Float64Array(H);
      const hNew = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        i[k] = sigmoid(a[k] + (peephole ? w.peephole_i[k] * c[k] : 0));
        f[k] = sigmoid(a[H + k] + (peephole ? w.peephole_f[k] * c[k] : 0));
        gg[k] = Math.tanh(a[2 * H + k]);
        cNew[k] = f[k] * c[k] + i[k] * gg[k];
        o[k] = sigmoid(a[3 * H + k] + (peephole ? w.peephole_o[k] * cNew[k] : 0));
        tanhC[k] = Math.tanh(cNew[k]);
        hNew[k] = o[k] * tanhC[k];
      }
      return { h: hNew, c: cNew, record: { x, h, c, i, f, gg, o, cNew, tanhC } };
    },
    backward(w, g, dims, rec, dhNew, dcNewIn) {
      const H = dims.hidden;
      const dcNewFromLater = dcNewIn as Float64Array;
      const da = new Float64Array(4 * H);
      const dcPrev = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        const { i, f, gg, o, c, cNew, tanhC } = rec;
        const daO = dhNew[k] * tanhC[k] * o[k] * (1 - o[k]);
        // c' reaches the loss through the next step (dcNewFromLater), through h' = o·tanh(c'),
        // and, with peepholes, through the output gate's pre-activation.
        let dc = dcNewFromLater[k] + dhNew[k] * o[k] * (1 - tanhC[k] * tanhC[k]);
        if (peephole) {
          dc += daO * w.peephole_o[k];
          g.peephole_o[k] += daO * cNew[k];
        }
        const daI = dc * gg[k] * i[k] * (1 - i[k]);
        const daF = dc * c[k] * f[k] * (1 - f[k]);
        const daG = dc * i[k] * (1 - gg[k] * gg[k]);
        dcPrev[k] = dc * f[k];
        if (peephole) {
          dcPrev[k] += daI * w.peephole_i[k] + daF * w.peephole_f[k];
          g.peephole_i[k] += daI * c[k];
          g.peephole_f[k] += daF * c[k];
        }
        da[k] = daI;
        da[H + k] = daF;
        da[2 * H + k] = daG;
        da[3 * H + k] = daO;
      }
      const { dx, dh } = backPreActivation(w, g, dims, da, rec.x, rec.h);
      return { dx, dh, dc: dcPrev };
    },
  };
}

// ---------------------------------------------------------------------------------------
// gru (torch.nn.GRU, "linear-before-reset"), gate rows r, z, n:
//   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 − z) * n + z * h
// gru_cho (Cho et al. 2014): as gru except n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).

interface GruRecord {
  x: Float64Array;
  h: Float64Array;
  r: Float64Array;
  z: Float64Array;
  n: Float64Array;
  /** gru: W_hn h + b_hn (what r multiplies). gru_cho: r * h (what W_hn multiplies). */
  inner: Float64Array;
}

function gru(resetBeforeProduct: boolean): Cell<GruRecord> {
  return {
    forward(w, dims, x, h) {
      const H = dims.hidden;
      const rz = preActivation(w, dims, 0, 2 * H, x, h); // rows r then z
      const r = rz.subarray(0, H).map(sigmoid);
      const z = rz.subarray(H, 2 * H).map(sigmoid);
      const an = new Float64Array(H); // W_in x + b_in
      for (let k = 0; k < H; k++) an[k] = w.bias_ih[2 * H + k];
      addMatVec(an, w.weight_ih, 2 * H, H, dims.input, x);
      let inner: Float64Array;
      if (resetBeforeProduct) {
        inner = r.map((rk, k) => rk * h[k]); // r * h
        const hn = new Float64Array(H);
        for (let k = 0; k < H; k++) hn[k] = w.bias_hh[2 * H + k];
        addMatVec(hn, w.weight_hh, 2 * H, H, H, inner);
        for (let k = 0; k < H; k++) an[k] += hn[k];
      } else {
        inner = new Float64Array(H); // W_hn h + b_hn
        for (let k = 0; k < H; k++) inner[k] = w.bias_hh[2 * H + k];
        addMatVec(inner, w.weight_hh, 2 * H, H, H, h);
        for (let k = 0; k < H; k++) an[k] += r[k] * inner[k];
      }
      const n = an.map(Math.tanh);
      const hNew = n.map((nk, k) => (1 - z[k]) * nk + z[k] * h[k]);
      return { h: hNew, c: null, record: { x, h, r, z, n, inner } };
    },
    backward(w, g, dims, rec, dhNew) {
      const H = dims.hidden;
      const { x, h, r, z, n, inner } = rec;
      const dhPrev = new Float64Array(H);
      const daN = new Float64Array(H); // dL/d(pre-activation of n)
      const daZ = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        dhPrev[k] = dhNew[k] * z[k];
        daN[k] = dhNew[k] * (1 - z[k]) * (1 - n[k] * n[k]);
        daZ[k] = dhNew[k] * (h[k] - n[k]) * z[k] * (1 - z[k]);
      }
      const dr = new Float64Array(H);
      // The W_hn rows of weight_hh / bias_hh, and how the reset gate enters.
      const dHn = new Float64Array(H); // gradient reaching the W_hn product's output
      if (resetBeforeProduct) {
        // n_pre = W_in x + b_in + W_hn (r*h) + b_hn
        dHn.set(daN);
        addOuter(g.weight_hh, 2 * H, H, H, dHn, inner);
        const dInner = new Float64Array(H); // dL/d(r*h)
        addMatTVec(dInner, w.weight_hh, 2 * H, H, H, dHn);
        for (let k = 0; k < H; k++) {
          dr[k] = dInner[k] * h[k];
          dhPrev[k] += dInner[k] * r[k];
        }
      } else {
        // n_pre = W_in x + b_in + r * (W_hn h + b_hn)
        for (let k = 0; k < H; k++) {
          dHn[k] = daN[k] * r[k];
          dr[k] = daN[k] * inner[k];
        }
        addOuter(g.weight_hh, 2 * H, H, H, dHn, h);
        addMatTVec(dhPrev, w.weight_hh, 2 * H, H, H, dHn);
      }
      for (let k = 0; k < H; k++) g.bias_hh[2 * H + k] += dHn[k];
      const daR = dr.map((d, k) => d * r[k] * (1 - r[k]));
      // Rows r and z: ordinary W_ih x + b_ih + W_hh h + b_hh pre-activations.
      const daRZ = new Float64Array(2 * H);
      daRZ.set(daR, 0);
      daRZ.set(daZ, H);
      addOuter(g.weight_hh, 0, 2 * H, H, daRZ, h);
      addMatTVec(dhPrev, w.weight_hh, 0, 2 * H, H, daRZ);
      for (let k = 0; k < 2 * H; k++) g.bias_hh[k] += daRZ[k];
      // The input side of all three gates.
      const daIn = new Float64Array(3 * H);
      daIn.set(daRZ, 0);
      daIn.set(daN, 2 * H);
      addOuter(g.weight_ih, 0, 3 * H, dims.input, daIn, x);
      addInto(g.bias_ih, daIn);
      const dx = new Float64Array(dims.input);
      addMatTVec(dx, w.weight_ih, 0, 3 * H, dims.input, daIn);
      return { dx, dh: dhPrev, dc: null };
    },
  };
}

// ---------------------------------------------------------------------------------------
// jordan: the state is the previous output y (width O).
//   h_t = tanh(W_ih x_t + b_ih + W_yh y_{t−1}),  y_t = tanh(W_ho h_t + b_ho)

interface JordanRecord {
  x: Float64Array;
  yPrev: Float64Array;
  hidden: Float64Array;
  y: Float64Array;
}

const jordan: Cell<JordanRecord> = {
  forward(w, dims, x, yPrev) {
    const H = dims.hidden;
    const O = dims.state;
    const a = new Float64Array(H);
    for (let k = 0; k < H; k++) a[k] = w.bias_ih[k];
    addMatVec(a, w.weight_ih, 0, H, dims.input, x);
    addMatVec(a, w.weight_yh, 0, H, O, yPrev);
    const hidden = a.map(Math.tanh);
    const ay = new Float64Array(O);
    for (let k = 0; k < O; k++) ay[k] = w.bias_ho[k];
    addMatVec(ay, w.weight_ho, 0, O, H, hidden);
    const y = ay.map(Math.tanh);
    return { h: y, c: null, record: { x, yPrev, hidden, y } };
  },
  backward(w, g, dims, rec, dy) {
    const H = dims.hidden;
    const O = dims.state;
    const daY = dy.map((d, k) => d * (1 - rec.y[k] * rec.y[k]));
    addOuter(g.weight_ho, 0, O, H, daY, rec.hidden);
    addInto(g.bias_ho, daY);
    const dHidden = new Float64Array(H);
    addMatTVec(dHidden, w.weight_ho, 0, O, H, daY);
    const daH = dHidden.map((d, k) => d * (1 - rec.hidden[k] * rec.hidden[k]));
    addOuter(g.weight_ih, 0, H, dims.input, daH, rec.x);
    addOuter(g.weight_yh, 0, H, O, daH, rec.yPrev);
    addInto(g.bias_ih, daH);
    const dx = new Float64Array(dims.input);
    const dyPrev = new Float64Array(O);
    addMatTVec(dx, w.weight_ih, 0, H, dims.input, daH);
    addMatTVec(dyPrev, w.weight_yh, 0, H, O, daH);
    return { dx, dh: dyPrev, dc: null };
  },
};

const CELLS: Record<CellType, Cell<unknown>> = {
  rnn_tanh: plainRnn('tanh') as Cell<unknown>,
  rnn_relu: plainRnn('relu') as Cell<unknown>,
  lstm: lstm(false) as Cell<unknown>,
  lstm_peephole: lstm(true) as Cell<unknown>,
  gru: gru(false) as Cell<unknown>,
  gru_cho: gru(true) as Cell<unknown>,
  jordan: jordan as Cell<unknown>,
};

/** The step functions of `cell`. */
export function cellFor(cell: CellType): Cell<unknown> {
  const c = CELLS[cell];
  if (!c) throw new RangeError(`cell must be one of ${Object.keys(CELLS).join(', ')}; got ${JSON.stringify(cell)}`);
  return c;
}
