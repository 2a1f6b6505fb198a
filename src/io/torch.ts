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
import { CELL_TYPES, type CellType, type StackSpec } from '../backend/contract.js';
import { gateCount, paramLayout } from '../backend/layout.js';
import { checkStackSpec } from '../models/spec.js';
import { SafetensorsError } from './safetensors.js';
import { parameterValuesProblem } from './state-dict.js';
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
  /**
   * Read only the tensors whose names start with this prefix, without it: `rnn.` for the
   * module held as `self.rnn` of a larger model's state_dict (its other tensors are left
   * alone). Default none: every tensor must belong to the stack.
   */
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
    if (!t.name.startsWith(prefix)) continue;
    if (byName.has(t.name.slice(prefix.length))) fail(`two tensors are named ${t.name}`);
    byName.set(t.name.slice(prefix.length), t);
  }
  if (byName.size === 0) fail(`no tensor's name starts with the prefix ${JSON.stringify(prefix)} (names: ${tensors.slice(0, 6).map((t) => t.name).join(', ')}${tensors.length > 6 ? ', …' : ''})`);
  if ([...byName.keys()].some((n) => /^weight_hr_l/.test(n))) fail('LSTM projections (proj_size > 0, weight_hr_l*) are not supported');
  const hh0 = byName.get('weight_hh_l0');
  const ih0 = byName.get('weight_ih_l0');
  if (!hh0 || !ih0) {
    const nested = tensors.find((t) => /(^|\.)weight_hh_l0$/.test(t.name) && t.name !== `${prefix}weight_hh_l0`);
    const hint = nested ? ` — the module's tensors look like ${nested.name}: pass { prefix: ${JSON.stringify(nested.name.slice(0, -'weight_hh_l0'.length))} }` : '';
    fail(`no ${prefix}weight_ih_l0 / ${prefix}weight_hh_l0: not an nn.RNN/LSTM/GRU state_dict (names: ${[...byName.keys()].slice(0, 6).join(', ')}…)${hint}`);
  }
  if (hh0!.shape.length !== 2 || ih0!.shape.length !== 2) fail('weight_ih_l0 and weight_hh_l0 must be matrices');
  const H = hh0!.shape[1];
  if (H < 1 || hh0!.shape[0] % H !== 0) fail(`weight_hh_l0 has shape [${hh0!.shape.join(', ')}]; rows must be a multiple of hidden size ${H}`);
  const G = hh0!.shape[0] / H;
  // Layers by the highest index named (a layer missing in the middle is then reported as
  // its missing tensors, not as a stray tensor of a shorter stack).
  let layers = 0;
  for (const n of byName.keys()) {
    const m = /_l(\d+)(_reverse)?$/.exec(n);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
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
    const problem = parameterValuesProblem(t!);
    if (problem) fail(`tensor ${prefix}${e.name}${problem}`);
    params.set(t!.data, e.offset);
    used.add(e.name);
  }
  for (const n of byName.keys()) if (!used.has(n)) fail(`tensor ${prefix}${n} is not a parameter of a ${layers}-layer${bidirectional ? ' bidirectional' : ''} ${cell}`);
  return { spec, params };
}

/**
 * Cells no PyTorch module computes: their weights would load into one (or be refused by
 * it) and give other outputs.
 */
const NO_TORCH_MODULE: Partial<Record<CellType, string>> = {
  jordan: 'has no PyTorch module to export to (nn.RNN, nn.LSTM and nn.GRU only)',
  gru_cho: "is Cho's GRU (the reset gate before the recurrent product): nn.GRU applies it after, so these weights would give other outputs there",
  lstm_peephole: 'has peephole weights that nn.LSTM has no place for',
};

/**
 * The `__metadata__` of an exported stack: PyTorch's `format`, and the cell — a state_dict
 * does not say whether an nn.RNN is tanh or relu, so the import reads it from here.
 */
export function torchMetadata(spec: StackSpec): Record<string, string> {
  return { format: 'pt', [CELL_KEY]: spec.cell };
}

/**
 * The import options with the cell the file's metadata records (written by
 * {@link torchMetadata}) when the caller gave none.
 */
export function withRecordedCell(options: TorchImportOptions, metadata: Record<string, string>, source: string): TorchImportOptions {
  const recorded = metadata[CELL_KEY];
  if (recorded === undefined || options === null || typeof options !== 'object' || options.cell !== undefined) return options;
  if (!(CELL_TYPES as readonly string[]).includes(recorded)) throw new SafetensorsError(source, `__metadata__.${CELL_KEY} is ${JSON.stringify(recorded)}, not a cell rnnkit knows`);
  return { ...options, cell: recorded as CellType };
}
const CELL_KEY = 'rnnkit_cell';

/**
 * A stack's parameters as PyTorch-named tensors (with an optional prefix). Refuses a Jordan
 * stack (PyTorch has no such module: the file could not be loaded back) and non-finite
 * parameters (importTorchRnn, and PyTorch users, would get NaN).
 */
export function stackToTensors(spec: StackSpec, params: Float32Array, prefix = ''): Tensor[] {
  spec = checkStackSpec('spec', spec);
  const unexportable = NO_TORCH_MODULE[spec.cell];
  if (unexportable) throw new RangeError(`spec.cell ${JSON.stringify(spec.cell)} ${unexportable}`);
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
