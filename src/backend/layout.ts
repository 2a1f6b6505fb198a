/**
 * Parameter layout of a recurrent stack: names, shapes and offsets in one flat array.
 *
 * Every backend stores a stack's parameters (and gradients) as ONE contiguous float array
 * in this order, so that optimizers and clipping can run over a single buffer. The native
 * kernels compute the same layout (native/src/layout.cc); the TypeScript side checks the
 * totals agree when a stack is created. Names and order are PyTorch's `state_dict` order:
 * for each layer l, for each direction (forward, then `_reverse`):
 *
 *   gated cells  weight_ih_l{l} [G·H][in]   weight_hh_l{l} [G·H][H]
 *                bias_ih_l{l} [G·H]         bias_hh_l{l} [G·H]
 *                (lstm_peephole) peephole_i_l{l} [H], peephole_f_l{l} [H], peephole_o_l{l} [H]
 *   jordan       weight_ih_l{l} [H][in]     weight_yh_l{l} [H][O]    bias_ih_l{l} [H]
 *                weight_ho_l{l} [O][H]      bias_ho_l{l} [O]
 *
 * with `in` = inputSize for layer 0 and D·S above it (S the state width, D the directions).
 */
import type { CellType, InputSpec, ModelSpec, StackSpec } from './contract.js';

export interface ParamEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  layer: number;
  direction: number;
}

/** Number of gate blocks G stacked in weight_ih / weight_hh. */
export function gateCount(cell: CellType): number {
  switch (cell) {
    case 'lstm':
    case 'lstm_peephole':
      return 4;
    case 'gru':
    case 'gru_cho':
      return 3;
    default:
      return 1;
  }
}

export function hasCellState(cell: CellType): boolean {
  return cell === 'lstm' || cell === 'lstm_peephole';
}

/** Width S of the recurrent state h (and of each direction's output): O for Jordan, H otherwise. */
export function stateSize(spec: StackSpec): number {
  return spec.cell === 'jordan' ? spec.outputSize : spec.hiddenSize;
}

export function directions(spec: StackSpec): number {
  return spec.bidirectional ? 2 : 1;
}

/** Input width of layer `l`. */
export function layerInputSize(spec: StackSpec, l: number): number {
  return l === 0 ? spec.inputSize : directions(spec) * stateSize(spec);
}

export function paramLayout(spec: StackSpec): { entries: ParamEntry[]; total: number } {
  const entries: ParamEntry[] = [];
  let offset = 0;
  const H = spec.hiddenSize;
  const G = gateCount(spec.cell);
  for (let l = 0; l < spec.layers; l++) {
    const inW = layerInputSize(spec, l);
    for (let d = 0; d < directions(spec); d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const add = (base: string, shape: number[]) => {
        const size = shape.reduce((a, b) => a * b, 1);
        entries.push({ name: base + sfx, shape, offset, size, layer: l, direction: d });
        offset += size;
      };
      if (spec.cell === 'jordan') {
        const O = spec.outputSize;
        add('weight_ih', [H, inW]);
        add('weight_yh', [H, O]);
        add('bias_ih', [H]);
        add('weight_ho', [O, H]);
        add('bias_ho', [O]);
      } else {
        add('weight_ih', [G * H, inW]);
        add('weight_hh', [G * H, H]);
        add('bias_ih', [G * H]);
        add('bias_hh', [G * H]);
        if (spec.cell === 'lstm_peephole') {
          add('peephole_i', [H]);
          add('peephole_f', [H]);
          add('peephole_o', [H]);
        }
      }
    }
  }
  return { entries, total: offset };
}

/** Sizes of the arrays a forward pass over `steps` × `batch` reads and writes. */
export function sequenceShapes(spec: StackSpec, steps: number, batch: number) {
  const S = stateSize(spec);
  const D = directions(spec);
  return {
    x: steps * batch * spec.inputSize,
    y: steps * batch * D * S,
    h: spec.layers * D * batch * S,
    c: hasCellState(spec.cell) ? spec.layers * D * batch * spec.hiddenSize : 0,
  };
}

/** Width of one step's input vector as the input layer produces it (before conditioning). */
export function inputWidth(input: InputSpec): number {
  switch (input.kind) {
    case 'embedding':
      return input.dim;
    case 'onehot':
      return input.vocab;
    case 'dense':
      return input.size;
  }
}

/** Width of the recurrent stack's output per step (what the head reads): D·S. */
export function stackOutputWidth(stack: StackSpec): number {
  return directions(stack) * stateSize(stack);
}

/** One named tensor of a model's flat parameter array. */
export interface ModelParamEntry {
  /** PyTorch `state_dict` name: `embedding.weight`, `rnn.weight_ih_l0`, `head.weight`, … */
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** Which part of the model it belongs to. */
  part: 'encoder.embedding' | 'encoder.rnn' | 'embedding' | 'rnn' | 'head';
}

/** Where a stack's parameters sit in a model's flat array. */
export interface StackBlock {
  offset: number;
  entries: ParamEntry[];
  total: number;
}

/** A model's flat parameter layout (see {@link modelLayout}). */
export interface ModelLayout {
  entries: ModelParamEntry[];
  total: number;
  /** Offset of `embedding.weight`, when the input is an embedding. */
  embeddingOffset?: number;
  /** The decoder (or only) stack. */
  stack: StackBlock;
  /** Seq2seq: the encoder's stack and embedding. */
  encoder?: { stack: StackBlock; embeddingOffset?: number };
}

/**
 * Flat parameter layout of a model, in PyTorch `state_dict` order: for seq2seq first the
 * encoder (`encoder.embedding.weight`, `encoder.rnn.*`); then `embedding.weight` [V][E]
 * (embedding input only), `rnn.` + every stack name of `paramLayout`, `head.weight`
 * [outputs][D·S] and `head.bias` [outputs]. Gradients and optimizer state use the same
 * layout, so clipping and updates run over one buffer.
 */
export function modelLayout(spec: ModelSpec): ModelLayout {
  const entries: ModelParamEntry[] = [];
  let offset = 0;
  const addInput = (input: InputSpec, prefix: string, part: 'encoder.embedding' | 'embedding'): number | undefined => {
    if (input.kind !== 'embedding') return undefined;
    const size = input.vocab * input.dim;
    entries.push({ name: prefix + 'embedding.weight', shape: [input.vocab, input.dim], offset, size, part });
    offset += size;
    return offset - size;
  };
  const addStack = (stackSpec: StackSpec, prefix: string, part: 'encoder.rnn' | 'rnn'): StackBlock => {
    const stack = paramLayout(stackSpec);
    const at = offset;
    for (const e of stack.entries) {
      entries.push({ name: prefix + e.name, shape: e.shape.slice(), offset: at + e.offset, size: e.size, part });
    }
    offset += stack.total;
    return { offset: at, entries: stack.entries, total: stack.total };
  };
  let encoder: ModelLayout['encoder'];
  if (spec.encoder) {
    const embeddingOffset = addInput(spec.encoder.input, 'encoder.', 'encoder.embedding');
    encoder = { embeddingOffset, stack: addStack(spec.encoder.stack, 'encoder.rnn.', 'encoder.rnn') };
  }
  const embeddingOffset = addInput(spec.input, '', 'embedding');
  const stack = addStack(spec.stack, 'rnn.', 'rnn');
  const W = stackOutputWidth(spec.stack);
  entries.push({ name: 'head.weight', shape: [spec.outputs, W], offset, size: spec.outputs * W, part: 'head' });
  offset += spec.outputs * W;
  entries.push({ name: 'head.bias', shape: [spec.outputs], offset, size: spec.outputs, part: 'head' });
  offset += spec.outputs;
  return { entries, total: offset, embeddingOffset, stack, encoder };
}

/** Sizes of the arrays of one batch for `spec` (0 where the array does not apply). */
export function batchShapes(spec: ModelSpec, steps: number, batch: number) {
  const L = spec.stack.layers;
  const D = directions(spec.stack);
  const rows = spec.readout === 'final_state' ? batch : steps * batch;
  return {
    tokens: spec.input.kind === 'dense' ? 0 : steps * batch,
    x: spec.input.kind === 'dense' ? steps * batch * spec.input.size : 0,
    condition: batch * spec.conditionSize,
    /** Head rows: T·B, or B for readout 'final_state' (targets, targetMask). */
    targets: rows,
    targetValues: rows * spec.outputs,
    outputs: rows * spec.outputs,
    h: L * D * batch * stateSize(spec.stack),
    c: hasCellState(spec.stack.cell) ? L * D * batch * spec.stack.hiddenSize : 0,
  };
}

/**
 * Consistency checks of a ModelSpec that every training backend applies when a model is
 * created (the public API validates the fields themselves first).
 */
export function checkModelShapes(spec: ModelSpec): void {
  const want = inputWidth(spec.input) + spec.conditionSize;
  if (spec.stack.inputSize !== want) {
    throw new RangeError(`stack.inputSize must equal the input width plus conditionSize = ${want}; got ${spec.stack.inputSize}`);
  }
  if (spec.encoder) {
    const e = spec.encoder.stack;
    const d = spec.stack;
    if (e.inputSize !== inputWidth(spec.encoder.input)) {
      throw new RangeError(`encoder.stack.inputSize must equal the encoder input width ${inputWidth(spec.encoder.input)}; got ${e.inputSize}`);
    }
    if (e.layers !== d.layers || e.bidirectional !== d.bidirectional || stateSize(e) !== stateSize(d) || e.hiddenSize !== d.hiddenSize || hasCellState(e.cell) !== hasCellState(d.cell)) {
      throw new RangeError("encoder.stack must have the decoder stack's layers, directions, state widths and cell-state kind (its final state starts the decoder)");
    }
  }
}
