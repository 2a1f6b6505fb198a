/**
 * PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` weights ⇄ rnnkit stacks.
 *
 * A module's `state_dict` saved with `safetensors.torch.save_file(rnn.state_dict(), path)`
 * holds `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, … (`_reverse` for the
 * second direction), in the gate order rnnkit uses (LSTM i,f,g,o; GRU r,z,n). Importing
 * infers layers, directions, sizes and the gate count from the tensors; what the file
 * cannot say (tanh vs relu for nn.RNN, PyTorch's GRU vs Cho's) comes from `cell`.
 * Pure (no file system); `torch-file.ts` reads and writes the files in Node.
 */
import type { CellType, StackSpec } from '../backend/contract.js';
import { gateCount, paramLayout } from '../backend/layout.js';
import { checkStackSpec } from '../models/spec.js';
import { SafetensorsError } from './safetensors.js';
import type { Tensor } from './safetensors.js';
import { checkKnownKeys, keysOf } from '../validate.js';

/** Options of {@link stackFromTensors} / {@link importTorchRnn}. */
export interface TorchImportOptions {
  /**
   * The cell, when the tensors alone are ambiguous: 1 gate block → `rnn_tanh` (default) or
   * `rnn_relu`; 3 → `gru` (default, nn.GRU) or `gru_cho`; 4 → `lstm`, or `lstm_peephole`
   * when peephole tensors are present. A cell whose gate count differs from the file's is an error.
   */
  cell?: CellType;
  /** Name prefix to strip, e.g. `rnn.` for a module held as `self.rnn` (default none). */
  prefix?: string;
}

/** A stack description and its parameters in `paramLayout(spec)` order. */
export interface ImportedStack {
  spec: StackSpec;
  params: Float32Array;
}

/** Build a stack from PyTorch-named tensors; every tensor must be used and every shape must match. */
export function stackFromTensors(tensors: Tensor[], options: TorchImportOptions = {}, source = 'tensors'): ImportedStack {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object { cell?, prefix? }; got ${options === null ? 'null' : typeof options}`);
  checkKnownKeys('options', options, keysOf<TorchImportOptions>({ cell: true, prefix: true }));
  if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new TypeError(`options.prefix must be a string; got ${typeof options.prefix}`);
  const prefix = options.prefix ?? '';
  const byName = new Map<string, Tensor>();
  for (const t of tensors) {
    if (!t.name.startsWith(prefix)) fail(`tensor ${t.name} does not start with the prefix ${JSON.stringify(prefix)}`);
    byName.set(t.name.slice(prefix.length), t);
  }
  if ([...byName.keys()].some((n) => /^weight_hr_l/.test(n))) fail('LSTM projections (proj_size > 0, weight_hr_l*) are not supported');
  const hh0 = byName.get('weight_hh_l0');
  const ih0 = byName.get('weight_ih_l0');
  if (!hh0 || !ih0) fail(`no ${prefix}weight_ih_l0 / ${prefix}weight_hh_l0: not an nn.RNN/LSTM/GRU state_dict (names: ${[...byName.keys()].slice(0, 6).join(', ')}…)`);
  if (hh0!.shape.length !== 2 || ih0!.shape.length !== 2) fail('weight_ih_l0 and weight_hh_l0 must be matrices');
  const H = hh0!.shape[1];
  if (H < 1 || hh0!.shape[0] % H !== 0) fail(`weight_hh_l0 has shape [${hh0!.shape.join(', ')}]; rows must be a multiple of hidden size ${H}`);
  const G = hh0!.shape[0] / H;
  let layers = 0;
  while (byName.has(`weight_ih_l${layers}`)) layers++;
  const bidirectional = byName.has('weight_ih_l0_reverse');
  const peephole = byName.has('peephole_i_l0');
  const defaults: Record<number, CellType> = { 1: 'rnn_tanh', 3: 'gru', 4: peephole ? 'lstm_peephole' : 'lstm' };
  const cell = options.cell ?? defaults[G] ?? fail(`weight_hh_l0 has ${G} gate blocks of ${H} rows; expected 1 (RNN), 3 (GRU) or 4 (LSTM)`);
  if (cell === 'jordan' || gateCount(cell) !== G) fail(`cell ${cell} has ${cell === 'jordan' ? 'another layout' : gateCount(cell) + ' gate blocks'}, but the file's weight_hh_l0 has ${G}`);
  let spec: StackSpec = { cell, inputSize: ih0!.shape[1], hiddenSize: H, outputSize: H, layers, bidirectional };
  try {
    spec = checkStackSpec('', spec); // sizes within rnnkit's limits: a stack it can create
  } catch (e) {
    fail(`the stack these tensors describe cannot be made: ${(e as Error).message}`);
  }
  const layout = paramLayout(spec);
  // nn.RNN(bias=False) saves no biases: then every bias is zero.
  const noBias = ![...byName.keys()].some((n) => n.startsWith('bias_'));
  const params = new Float32Array(layout.total);
  const used = new Set<string>();
  for (const e of layout.entries) {
    const t = byName.get(e.name);
    if (!t) {
      if (noBias && e.name.startsWith('bias_')) continue;
      fail(`tensor ${prefix}${e.name} [${e.shape.join(', ')}] is missing for a ${layers}-layer${bidirectional ? ' bidirectional' : ''} ${cell}`);
    }
    if (t!.shape.join(',') !== e.shape.join(',')) fail(`tensor ${prefix}${e.name} has shape [${t!.shape.join(', ')}]; expected [${e.shape.join(', ')}]`);
    for (let i = 0; i < t!.data.length; i++) {
      if (!Number.isFinite(t!.data[i])) fail(`tensor ${prefix}${e.name} holds a non-finite value (${t!.data[i]}) at index ${i}`);
    }
    params.set(t!.data, e.offset);
    used.add(e.name);
  }
  for (const n of byName.keys()) if (!used.has(n)) fail(`tensor ${prefix}${n} is not a parameter of a ${layers}-layer${bidirectional ? ' bidirectional' : ''} ${cell}`);
  return { spec, params };
}

/**
 * A stack's parameters as PyTorch-named tensors (with an optional prefix). Refuses a Jordan
 * stack (PyTorch has no such module: the file could not be loaded back) and non-finite
 * parameters (importTorchRnn, and PyTorch users, would get NaN).
 */
export function stackToTensors(spec: StackSpec, params: Float32Array, prefix = ''): Tensor[] {
  spec = checkStackSpec('spec', spec);
  if (spec.cell === 'jordan') throw new RangeError('spec.cell "jordan" has no PyTorch module to export to (nn.RNN, nn.LSTM and nn.GRU only)');
  if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string; got ${typeof prefix}`);
  const layout = paramLayout(spec);
  if (!(params instanceof Float32Array) || params.length !== layout.total) {
    throw new RangeError(`params must be a Float32Array of ${layout.total} values for this stack; got ${params instanceof Float32Array ? params.length : typeof params}`);
  }
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) throw new RangeError(`params[${i}] is ${params[i]}: a non-finite parameter cannot be exported`);
  }
  return layout.entries.map((e) => ({ name: prefix + e.name, shape: e.shape.slice(), data: params.slice(e.offset, e.offset + e.size) }));
}
