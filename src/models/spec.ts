/**
 * Validation of a `ModelSpec` that comes from outside (a config file, user options): every
 * field is checked and errors name the field by its path, e.g. `config.spec.stack.hiddenSize`.
 */
import { CELL_TYPES } from '../backend/contract.js';
import type { StackSpec } from '../backend/contract.js';
import { hasCellState, modelLayout, paramLayout } from '../backend/layout.js';
import type { InputSpec, LossSpec, ModelSpec } from '../backend/contract.js';
import { inputWidth } from '../backend/layout.js';
import { checkBoolean, checkKnownKeys, checkLayers, checkOneOf, checkParamCount, checkWidth, keysOf } from '../validate.js';

function obj(name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError(`${name} must be an object; got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/** A valid InputSpec; errors name `name`.field. */
export function checkInputSpec(name: string, v: unknown): InputSpec {
  const o = obj(name, v);
  const kind = checkOneOf(`${name}.kind`, o.kind, ['embedding', 'onehot', 'dense'] as const);
  // `frozen` is known to every kind so that a non-embedding's gets the message below.
  checkKnownKeys(name, o, { embedding: ['kind', 'vocab', 'dim', 'frozen'], onehot: ['kind', 'vocab', 'frozen'], dense: ['kind', 'size', 'frozen'] }[kind], `a field of input kind "${kind}"`);
  // `frozen` (default false; absent in older config files) applies to an embedding table only.
  if (o.frozen !== undefined && kind !== 'embedding') {
    throw new RangeError(`${name}.frozen applies only to kind "embedding" (a ${kind} input has no parameters); got ${String(o.frozen)}`);
  }
  switch (kind) {
    case 'embedding': {
      const spec: InputSpec = { kind, vocab: checkWidth(`${name}.vocab`, o.vocab), dim: checkWidth(`${name}.dim`, o.dim) };
      if (o.frozen !== undefined && checkBoolean(`${name}.frozen`, o.frozen)) spec.frozen = true;
      return spec;
    }
    case 'onehot':
      return { kind, vocab: checkWidth(`${name}.vocab`, o.vocab) };
    case 'dense':
      return { kind, size: checkWidth(`${name}.size`, o.size) };
  }
}

/** A valid LossSpec (ignoreIndex defaults to -100). */
export function checkLossSpec(name: string, v: unknown): LossSpec {
  const o = obj(name, v);
  const kind = checkOneOf(`${name}.kind`, o.kind, ['cross_entropy', 'mse'] as const);
  checkKnownKeys(name, o, kind === 'mse' ? ['kind'] : ['kind', 'ignoreIndex'], `a field of loss kind "${kind}"`);
  if (kind === 'mse') return { kind };
  const ignoreIndex = o.ignoreIndex ?? -100;
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) {
    throw new TypeError(`${name}.ignoreIndex must be an integer; got ${String(ignoreIndex)}`);
  }
  // The compiled backends hold it as an int32: a wider value would wrap (2^32 → class 0).
  if (ignoreIndex < -(2 ** 31) || ignoreIndex > 2 ** 31 - 1) {
    throw new RangeError(`${name}.ignoreIndex must be an integer in ${-(2 ** 31)}..${2 ** 31 - 1}; got ${ignoreIndex}`);
  }
  return { kind, ignoreIndex };
}

const STACK_SPEC_KEYS = keysOf<StackSpec>({ cell: true, inputSize: true, hiddenSize: true, outputSize: true, layers: true, bidirectional: true });

/**
 * A valid StackSpec: every size within the limits of abi/limits.ts and the parameter total
 * too, checked before anything is allocated. `prefix` names the fields in errors
 * (`config.spec.stack` gives `config.spec.stack.hiddenSize`; '' gives `hiddenSize`).
 * `outputSize` is a Jordan cell's own width; for the other cells it can only equal hiddenSize.
 */
export function checkStackSpec(prefix: string, v: unknown): StackSpec {
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  const o = obj(prefix || 'options', v);
  checkKnownKeys(prefix, o, STACK_SPEC_KEYS, prefix ? 'a field of a stack spec' : 'an option');
  const cell = checkOneOf(at('cell'), o.cell, CELL_TYPES);
  const hiddenSize = checkWidth(at('hiddenSize'), o.hiddenSize);
  const outputSize = checkWidth(at('outputSize'), o.outputSize ?? hiddenSize);
  if (cell !== 'jordan' && outputSize !== hiddenSize) {
    throw new RangeError(`${at('outputSize')} applies only to cell "jordan": for ${cell} it is ${at('hiddenSize')}, ${hiddenSize}; got ${outputSize}`);
  }
  const spec: StackSpec = {
    cell,
    inputSize: checkWidth(at('inputSize'), o.inputSize),
    hiddenSize,
    outputSize,
    layers: checkLayers(at('layers'), o.layers ?? 1),
    bidirectional: checkBoolean(at('bidirectional'), o.bidirectional ?? false),
  };
  checkParamCount(`a ${spec.layers}-layer ${cell} stack of hiddenSize ${hiddenSize} and inputSize ${spec.inputSize}`, paramLayout(spec).total);
  return spec;
}

const MODEL_SPEC_KEYS = keysOf<ModelSpec>({ input: true, conditionSize: true, stack: true, outputs: true, loss: true, readout: true, dropout: true, encoder: true });

/** A complete, consistent ModelSpec (the stack's input width must match the input layer). */
export function checkModelSpec(name: string, v: unknown): ModelSpec {
  const o = obj(name, v);
  checkKnownKeys(name, o, MODEL_SPEC_KEYS, 'a field of a model spec');
  const input = checkInputSpec(`${name}.input`, o.input);
  const conditionSize = checkWidth(`${name}.conditionSize`, o.conditionSize ?? 0, 0);
  const stack = checkStackSpec(`${name}.stack`, o.stack);
  const want = inputWidth(input) + conditionSize;
  if (stack.inputSize !== want) {
    throw new RangeError(`${name}.stack.inputSize must be the input width plus conditionSize = ${want}; got ${stack.inputSize}`);
  }
  const spec: ModelSpec = {
    input, conditionSize, stack,
    outputs: checkWidth(`${name}.outputs`, o.outputs),
    loss: checkLossSpec(`${name}.loss`, o.loss),
  };
  if (o.readout !== undefined) spec.readout = checkOneOf(`${name}.readout`, o.readout, ['steps', 'final_state'] as const);
  if (o.dropout !== undefined) {
    const dr = obj(`${name}.dropout`, o.dropout);
    checkKnownKeys(`${name}.dropout`, dr, ['input', 'between']);
    const prob = (k: 'input' | 'between') => {
      const v = dr[k] ?? 0;
      if (typeof v !== 'number') throw new TypeError(`${name}.dropout.${k} must be a probability in [0, 1); got ${typeof v}`);
      if (!(v >= 0 && v < 1)) throw new RangeError(`${name}.dropout.${k} must be a probability in [0, 1); got ${v}`);
      return v;
    };
    spec.dropout = { input: prob('input'), between: prob('between') };
  }
  if (o.encoder !== undefined) {
    const e = obj(`${name}.encoder`, o.encoder);
    checkKnownKeys(`${name}.encoder`, e, ['input', 'stack'], 'a field of a model spec\'s encoder');
    const encInput = checkInputSpec(`${name}.encoder.input`, e.input);
    const encStack = checkStackSpec(`${name}.encoder.stack`, e.stack);
    if (encStack.inputSize !== inputWidth(encInput)) {
      throw new RangeError(`${name}.encoder.stack.inputSize must be the encoder input width ${inputWidth(encInput)}; got ${encStack.inputSize}`);
    }
    for (const k of ['layers', 'bidirectional', 'hiddenSize', 'outputSize'] as const) {
      if (encStack[k] !== stack[k]) throw new RangeError(`${name}.encoder.stack.${k} must equal the decoder's (${stack[k]}): the encoder's final state starts the decoder; got ${encStack[k]}`);
    }
    if (hasCellState(encStack.cell) !== hasCellState(stack.cell)) {
      throw new RangeError(`${name}.encoder.stack.cell ${encStack.cell} and the decoder's ${stack.cell} must both have a cell state or both not`);
    }
    spec.encoder = { input: encInput, stack: encStack };
  }
  checkParamCount(`the model ${name}`, modelLayout(spec).total);
  return spec;
}
