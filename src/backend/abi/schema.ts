/**
 * The one TypeScript description of native/include/rnnkit.h: which enums, structs and
 * limits cross the C ABI, the fields TypeScript fills in, and how TypeScript names map to
 * the header's enumerators. Offsets and sizes are NOT written here: they come from the
 * compiled module itself (`rk_abi_describe`, native/src/abi.cc, which the compiler checks
 * against the header), and {@link checkAbi} refuses to load a module whose description
 * differs from this one — a field added, removed, renamed, retyped or reordered on either
 * side is a load error naming the struct.
 */
import { CELL_TYPES } from '../contract.js';
import { OPTIMIZER_NAMES } from '../../optim/optimizers.js';
import { LIMITS } from './limits.js';

/** Field types as rk_abi_describe writes them; other names are nested structs. */
export type FieldType = 'i32' | 'u32' | 'f64' | 'ptr' | StructName;

/** The structs that cross the ABI, each field in declaration order with its type. */
export const STRUCTS = {
  rk_stack_spec: [['cell', 'i32'], ['input_size', 'i32'], ['hidden_size', 'i32'], ['output_size', 'i32'], ['layers', 'i32'], ['bidirectional', 'i32']],
  rk_model_spec: [
    ['input_kind', 'i32'], ['vocab', 'i32'], ['dim', 'i32'], ['size', 'i32'], ['stack', 'rk_stack_spec'],
    ['outputs', 'i32'], ['loss', 'i32'], ['ignore_index', 'i32'], ['condition_size', 'i32'], ['readout', 'i32'],
    ['dropout_input', 'f64'], ['dropout_between', 'f64'],
    ['encoder', 'i32'], ['encoder_input_kind', 'i32'], ['encoder_vocab', 'i32'], ['encoder_dim', 'i32'], ['encoder_size', 'i32'],
    ['encoder_stack', 'rk_stack_spec'], ['freeze_embedding', 'i32'], ['encoder_freeze_embedding', 'i32'],
  ],
  rk_optimizer: [
    ['kind', 'i32'], ['nesterov', 'i32'], ['has_clip_value', 'i32'], ['has_max_norm', 'i32'],
    ['lr', 'f64'], ['momentum', 'f64'], ['dampening', 'f64'], ['weight_decay', 'f64'], ['alpha', 'f64'], ['eps', 'f64'],
    ['beta1', 'f64'], ['beta2', 'f64'], ['clip_value', 'f64'], ['max_norm', 'f64'],
  ],
  rk_batch: [
    ['T', 'i32'], ['B', 'i32'], ['tokens', 'ptr'], ['x', 'ptr'], ['targets', 'ptr'], ['target_values', 'ptr'],
    ['target_mask', 'ptr'], ['lengths', 'ptr'], ['h0', 'ptr'], ['c0', 'ptr'], ['condition', 'ptr'],
    ['dropout_seed', 'u32'], ['source_T', 'i32'], ['source_tokens', 'ptr'], ['source_x', 'ptr'], ['source_lengths', 'ptr'],
  ],
  rk_step_result: [['loss', 'f64'], ['count', 'f64'], ['correct', 'f64'], ['total_norm', 'f64']],
} as const satisfies Record<string, readonly (readonly [string, string])[]>;

export type StructName = keyof typeof STRUCTS;

/** The field names of struct S. */
export type FieldName<S extends StructName> = (typeof STRUCTS)[S][number][0];

/**
 * Each enum TypeScript uses, as the TypeScript names of its enumerators, in any order:
 * enumerator `prefix + NAME.toUpperCase()` of the header. Their numeric values are read
 * from the module, never written here.
 */
export const ENUMS = {
  rk_cell: { prefix: 'RK_CELL_', names: CELL_TYPES },
  rk_input_kind: { prefix: 'RK_INPUT_', names: ['embedding', 'onehot', 'dense'] },
  rk_loss_kind: { prefix: 'RK_LOSS_', names: ['cross_entropy', 'mse'] },
  rk_readout: { prefix: 'RK_READOUT_', names: ['steps', 'final_state'] },
  rk_optimizer_kind: { prefix: 'RK_OPT_', names: OPTIMIZER_NAMES },
  rk_status: { prefix: 'RK_', names: ['ok', 'einval', 'enomem', 'estate', 'einternal'] },
  rk_model_array: {
    prefix: 'RK_ARRAY_',
    names: ['tokens', 'x', 'targets', 'target_values', 'target_mask', 'lengths', 'h', 'c', 'condition', 'source_tokens', 'source_x', 'source_lengths', 'outputs', 'y', 'count'],
  },
} as const satisfies Record<string, { prefix: string; names: readonly string[] }>;

export type EnumName = keyof typeof ENUMS;
export type EnumMember<E extends EnumName> = (typeof ENUMS)[E]['names'][number];

/** The limits the module must have been built with (abi/limits.ts). */
export const EXPECTED_LIMITS: Readonly<Record<string, number>> = LIMITS;
