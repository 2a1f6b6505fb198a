/**
 * C owns the parameter layout and the array shapes the kernels use (rk_stack_layout,
 * rk_model_layout; rk_stack_shapes, rk_model_shapes); src/backend/layout.ts is the
 * reference's specification of both. Here they are compared entry by entry — name,
 * offset and shape of every tensor, in order — on each compiled backend, over every cell,
 * depth and direction, odd sizes, Jordan output widths, and models with every input kind,
 * conditioning, readout, dropout and a seq2seq encoder. A comparison of totals (what this
 * replaces) could not see two blocks in a different order.
 */
import { describe, expect, it } from 'vitest';
import { CELL_TYPES, type ModelSpec, type StackSpec, type TrainingCapable } from '../../src/backend/contract.js';
import { FusedTraining } from '../../src/backend/fused-training.js';
import { batchShapes, inputWidth, modelLayout, paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { parseLayout } from '../../src/backend/abi/structs.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';

const STACKS: StackSpec[] = [];
for (const cell of CELL_TYPES) {
  for (const [layers, bidirectional] of [[1, false], [2, true], [3, false]] as const) {
    const hiddenSize = 3 + layers * 2;
    STACKS.push({ cell, inputSize: 7, hiddenSize, outputSize: cell === 'jordan' ? 5 : hiddenSize, layers, bidirectional });
  }
}

const stack = (cell: StackSpec['cell'], inputSize: number, layers = 1, bidirectional = false): StackSpec => ({
  cell, inputSize, hiddenSize: 6, outputSize: cell === 'jordan' ? 4 : 6, layers, bidirectional,
});

const MODELS: { name: string; spec: ModelSpec }[] = [
  { name: 'embedding lstm, steps readout', spec: { input: { kind: 'embedding', vocab: 11, dim: 3 }, conditionSize: 0, stack: stack('lstm', 3, 2), outputs: 11, loss: { kind: 'cross_entropy', ignoreIndex: -100 } } },
  { name: 'one-hot bidirectional gru, final-state readout, dropout', spec: { input: { kind: 'onehot', vocab: 5 }, conditionSize: 0, stack: stack('gru', 5, 2, true), outputs: 3, loss: { kind: 'cross_entropy', ignoreIndex: -1 }, readout: 'final_state', dropout: { input: 0.1, between: 0.2 } } },
  { name: 'dense jordan with conditioning, mse', spec: { input: { kind: 'dense', size: 2 }, conditionSize: 3, stack: stack('jordan', 5), outputs: 2, loss: { kind: 'mse' } } },
  { name: 'seq2seq: dense peephole encoder, embedding lstm decoder', spec: { input: { kind: 'embedding', vocab: 9, dim: 4 }, conditionSize: 0, stack: stack('lstm', 4, 2), outputs: 9, loss: { kind: 'cross_entropy', ignoreIndex: -100 }, encoder: { input: { kind: 'dense', size: 3 }, stack: stack('lstm_peephole', 3, 2) } } },
  { name: 'seq2seq: embedding gru_cho encoder, one-hot gru decoder', spec: { input: { kind: 'onehot', vocab: 6 }, conditionSize: 0, stack: stack('gru', 6), outputs: 6, loss: { kind: 'cross_entropy', ignoreIndex: -100 }, encoder: { input: { kind: 'embedding', vocab: 7, dim: 2 }, stack: stack('gru_cho', 2) } } },
];

const expectedStack = (spec: StackSpec) => paramLayout(spec).entries.map((e) => ({ name: e.name, offset: e.offset, shape: e.shape }));
const expectedModel = (spec: ModelSpec) => modelLayout(spec).entries.map((e) => ({ name: e.name, offset: e.offset, shape: e.shape }));

const compiled = requestedBackends().filter((n) => n === 'native' || n === 'wasm');

describe('layout conformance', () => {
  it('the stack table covers every cell', () => {
    expect(new Set(STACKS.map((s) => s.cell)).size).toBe(CELL_TYPES.length);
    for (const { spec } of MODELS) expect(spec.stack.inputSize).toBe(inputWidth(spec.input) + spec.conditionSize);
  });
});

for (const name of compiled) {
  describeBackend(name, (backend) => {
    type WithLayout = { stackLayoutText(h: unknown): string };
    for (const spec of STACKS) {
      it(`stack ${spec.cell} L${spec.layers}${spec.bidirectional ? ' bi' : ''}: rk_stack_layout equals paramLayout, entry by entry`, () => {
        const b = backend();
        const h = b.createStack(spec);
        try {
          expect(parseLayout((b as unknown as WithLayout).stackLayoutText(h))).toEqual(expectedStack(spec));
        } finally {
          b.dispose(h);
        }
      });
    }

    it('stack shapes: rk_stack_shapes gives the sizes sequenceShapes specifies (outputs sized by C)', async () => {
      const b = backend();
      for (const spec of STACKS) {
        const h = b.createStack(spec);
        const T = 3;
        const B = 2;
        const want = sequenceShapes(spec, T, B);
        const r = b.forwardSync(h, { x: new Float32Array(want.x), steps: T, batch: B });
        expect([r.y.length, r.hn.length, r.cn?.length ?? 0]).toEqual([want.y, want.h, want.c]);
        b.dispose(h);
      }
    });

    for (const { name: modelName, spec } of MODELS) {
      it(`model ${modelName}: rk_model_layout equals modelLayout, entry by entry, and outputs are sized as batchShapes says`, async () => {
        const training = (backend() as TrainingCapable).training as unknown as FusedTraining<unknown>;
        const m = training.createModel(spec);
        try {
          expect(training.kernelLayout(m)).toEqual(expectedModel(spec));
          const T = 3;
          const B = 2;
          const want = batchShapes(spec, T, B);
          const tokens = spec.input.kind === 'dense' ? undefined : new Int32Array(want.tokens);
          const x = spec.input.kind === 'dense' ? new Float32Array(want.x) : undefined;
          const condition = spec.conditionSize > 0 ? new Float32Array(want.condition) : undefined;
          const r = training.evaluateSync(m, { steps: T, batch: B, tokens, x, condition });
          expect([r.outputs.length, r.hn.length, r.cn?.length ?? 0]).toEqual([want.outputs, want.h, want.c]);
        } finally {
          training.disposeModel(m);
        }
      });
    }
  });
}
