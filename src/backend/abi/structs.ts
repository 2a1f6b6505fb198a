/**
 * TypeScript values → the fields of rnnkit.h's structs: the one place where a StackSpec,
 * ModelSpec, optimizer or batch becomes what C reads. The native addon and the wasm module
 * both pack through these functions (abi.ts lays the bytes out for the module at hand).
 */
import type { ModelSpec, StackSpec, TrainBatch } from '../contract.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import type { Abi, StructValues } from './abi.js';
import type { EnumMember } from './schema.js';

type InputSpec = ModelSpec['input'];
export type ModelArrayName = EnumMember<'rk_model_array'>;
export type BatchArray = Int32Array | Float32Array | Uint8Array;

export function stackSpecValues(abi: Abi, s: StackSpec | undefined): StructValues<'rk_stack_spec'> {
  if (!s) return { cell: 0, input_size: 0, hidden_size: 0, output_size: 0, layers: 0, bidirectional: 0 };
  return {
    cell: abi.value('rk_cell', s.cell),
    input_size: s.inputSize,
    hidden_size: s.hiddenSize,
    output_size: s.outputSize,
    layers: s.layers,
    bidirectional: s.bidirectional ? 1 : 0,
  };
}

function inputValues(abi: Abi, input: InputSpec | undefined) {
  return {
    kind: input ? abi.value('rk_input_kind', input.kind) : 0,
    vocab: input && input.kind !== 'dense' ? input.vocab : 0,
    dim: input?.kind === 'embedding' ? input.dim : 0,
    size: input?.kind === 'dense' ? input.size : 0,
  };
}

/** 1 for a frozen embedding table (InputSpec `frozen`), else 0. */
function frozen(input: InputSpec | undefined): number {
  return input?.kind === 'embedding' && input.frozen === true ? 1 : 0;
}

export function modelSpecValues(abi: Abi, spec: ModelSpec): StructValues<'rk_model_spec'> {
  const input = inputValues(abi, spec.input);
  const enc = inputValues(abi, spec.encoder?.input);
  return {
    input_kind: input.kind, vocab: input.vocab, dim: input.dim, size: input.size,
    stack: stackSpecValues(abi, spec.stack),
    outputs: spec.outputs,
    loss: abi.value('rk_loss_kind', spec.loss.kind),
    ignore_index: spec.loss.kind === 'cross_entropy' ? spec.loss.ignoreIndex : 0,
    condition_size: spec.conditionSize,
    readout: abi.value('rk_readout', spec.readout ?? 'steps'),
    dropout_input: spec.dropout?.input ?? 0,
    dropout_between: spec.dropout?.between ?? 0,
    encoder: spec.encoder ? 1 : 0,
    encoder_input_kind: enc.kind, encoder_vocab: enc.vocab, encoder_dim: enc.dim, encoder_size: enc.size,
    encoder_stack: stackSpecValues(abi, spec.encoder?.stack),
    freeze_embedding: frozen(spec.input),
    encoder_freeze_embedding: frozen(spec.encoder?.input),
  };
}

export function optimizerValues(abi: Abi, o: OptimizerSettings): StructValues<'rk_optimizer'> {
  return {
    kind: abi.value('rk_optimizer_kind', o.name),
    nesterov: o.nesterov ? 1 : 0,
    has_clip_value: o.clipValue !== undefined ? 1 : 0,
    has_max_norm: o.maxNorm !== undefined ? 1 : 0,
    lr: o.lr, momentum: o.momentum, dampening: o.dampening, weight_decay: o.weightDecay, alpha: o.alpha, eps: o.eps,
    beta1: o.beta1, beta2: o.beta2, clip_value: o.clipValue ?? 0, max_norm: o.maxNorm ?? 0,
  };
}

/**
 * The input arrays of a batch: each rk_model_array name, the rk_batch field that points
 * to it, and where it is in a TrainBatch.
 */
export const BATCH_INPUTS: readonly { array: ModelArrayName; field: 'tokens' | 'x' | 'targets' | 'target_values' | 'target_mask' | 'lengths' | 'h0' | 'c0' | 'condition' | 'source_tokens' | 'source_x' | 'source_lengths'; of: (b: TrainBatch) => BatchArray | undefined }[] = [
  { array: 'tokens', field: 'tokens', of: (b) => b.tokens },
  { array: 'x', field: 'x', of: (b) => b.x },
  { array: 'targets', field: 'targets', of: (b) => b.targets },
  { array: 'target_values', field: 'target_values', of: (b) => b.targetValues },
  { array: 'target_mask', field: 'target_mask', of: (b) => b.targetMask },
  { array: 'lengths', field: 'lengths', of: (b) => b.lengths },
  { array: 'h', field: 'h0', of: (b) => b.h0 },
  { array: 'c', field: 'c0', of: (b) => b.c0 },
  { array: 'condition', field: 'condition', of: (b) => b.condition },
  { array: 'source_tokens', field: 'source_tokens', of: (b) => b.source?.tokens },
  { array: 'source_x', field: 'source_x', of: (b) => b.source?.x },
  { array: 'source_lengths', field: 'source_lengths', of: (b) => b.source?.lengths },
];

/**
 * rk_batch for `b`: T, B, the dropout seed (any integer, taken modulo 2^32 as Random(seed)
 * does), the source steps, and for each array the pointer `pointerOf` gives (0 = NULL).
 */
export function batchValues(b: TrainBatch, pointerOf: (field: (typeof BATCH_INPUTS)[number]['field']) => number): StructValues<'rk_batch'> {
  const v: Record<string, number> = {
    T: b.steps,
    B: b.batch,
    dropout_seed: Number(BigInt.asUintN(32, BigInt(b.dropoutSeed ?? 0))),
    source_T: b.source?.steps ?? 0,
  };
  for (const { field } of BATCH_INPUTS) v[field] = pointerOf(field);
  return v as StructValues<'rk_batch'>;
}

/** Parse rk_stack_layout / rk_model_layout text: "name offset d0xd1" per line. */
export function parseLayout(text: string): { name: string; offset: number; shape: number[] }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name, offset, shape] = l.trim().split(/\s+/);
      return { name, offset: Number(offset), shape: shape.split('x').map(Number) };
    });
}
