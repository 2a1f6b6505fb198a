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
import type { CellType, StackSpec } from './backend.js';

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
