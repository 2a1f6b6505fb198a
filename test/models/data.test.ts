/** Packing datasets into time-major padded batches and windows. */
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import { checkDataset, countedPositions, packBatch, sliceWindow, validPositions } from '../../src/models/data.js';

const spec = (extra: Partial<ModelSpec> = {}): ModelSpec => ({
  input: { kind: 'embedding', vocab: 9, dim: 2 }, conditionSize: 0,
  stack: { cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 3, layers: 1, bidirectional: false },
  outputs: 4, loss: { kind: 'cross_entropy', ignoreIndex: -100 }, ...extra,
});

describe('packBatch', () => {
  it('lays sequences out time-major, pads with token 0 and the ignore index, and sets lengths', () => {
    const s = spec();
    const set = checkDataset('data', { inputs: [[1, 2, 3], [4]], targets: [[0, 1, 2], [3]] }, s, true);
    const b = packBatch(s, set, [0, 1]);
    expect(b.steps).toBe(3);
    expect(Array.from(b.tokens!)).toEqual([1, 4, 2, 0, 3, 0]);
    expect(Array.from(b.targets!)).toEqual([0, 3, 1, -100, 2, -100]);
    expect(Array.from(b.lengths!)).toEqual([3, 1]);
    expect(countedPositions(s, b)).toBe(4);
    expect(validPositions(b)).toBe(4);
    expect(packBatch(s, set, [0]).lengths).toBeUndefined(); // nothing padded
  });
  it('puts labels at each sequence’s last step, or one per sequence for final-state readout', () => {
    const data = { inputs: [[1, 2, 3], [4]], labels: [2, 1] };
    const b = packBatch(spec(), checkDataset('d', data, spec(), true), [0, 1]);
    expect(Array.from(b.targets!)).toEqual([-100, 1, -100, -100, 2, -100]);
    const f = spec({ readout: 'final_state' });
    expect(Array.from(packBatch(f, checkDataset('d', data, f, true), [0, 1]).targets!)).toEqual([2, 1]);
  });
  it('packs MSE targets with a mask, dense inputs, conditions and sources', () => {
    const s: ModelSpec = {
      ...spec(), input: { kind: 'dense', size: 2 }, conditionSize: 1, loss: { kind: 'mse' }, outputs: 1,
      stack: { ...spec().stack, inputSize: 3 },
      encoder: { input: { kind: 'embedding', vocab: 5, dim: 2 }, stack: { ...spec().stack, inputSize: 2 } },
    };
    const set = checkDataset('d', { inputs: [[1, 2, 3, 4], [5, 6]], targets: [[0.5, 0.25], [0.75]], conditions: [[9], [8]], sources: [[1], [2, 3]] }, s, true);
    const b = packBatch(s, set, [0, 1]);
    expect(Array.from(b.x!)).toEqual([1, 2, 5, 6, 3, 4, 0, 0]);
    expect(Array.from(b.targetValues!)).toEqual([0.5, 0.75, 0.25, 0]);
    expect(Array.from(b.targetMask!)).toEqual([1, 1, 1, 0]);
    expect(Array.from(b.condition!)).toEqual([9, 8]);
    expect(b.source!.steps).toBe(2);
    expect(Array.from(b.source!.tokens!)).toEqual([1, 2, 0, 3]);
    expect(Array.from(b.source!.lengths!)).toEqual([1, 2]);
  });
});

describe('sliceWindow', () => {
  it('cuts time steps, clamps lengths (0 once a sequence has ended), keeps the source in the first window only', () => {
    const s = spec({ encoder: { input: { kind: 'onehot', vocab: 3 }, stack: { ...spec().stack, inputSize: 3 } } });
    const set = checkDataset('d', { inputs: [[1, 2, 3, 4, 5], [6, 7]], targets: [[0, 1, 2, 3, 0], [1, 2]], sources: [[0], [1]] }, s, true);
    const b = packBatch(s, set, [0, 1]);
    const w0 = sliceWindow(s, b, 0, 2);
    const w1 = sliceWindow(s, b, 2, 2);
    const w2 = sliceWindow(s, b, 4, 1);
    expect(Array.from(w0.tokens!)).toEqual([1, 6, 2, 7]);
    expect(Array.from(w1.tokens!)).toEqual([3, 0, 4, 0]);
    expect(Array.from(w2.targets!)).toEqual([0, -100]);
    expect(Array.from(w0.lengths!)).toEqual([2, 2]);
    expect(Array.from(w1.lengths!)).toEqual([2, 0]);
    expect(Array.from(w2.lengths!)).toEqual([1, 0]);
    expect(w0.source).toBe(b.source);
    expect(w1.source).toBeUndefined();
    expect(validPositions(w1)).toBe(2);
  });
  it('final-state readout: targets only in the window that reaches the end', () => {
    const s = spec({ readout: 'final_state' });
    const b = packBatch(s, checkDataset('d', { inputs: [[1, 2, 3, 4]], labels: [3] }, s, true), [0]);
    expect(sliceWindow(s, b, 0, 2).targets).toBeUndefined();
    expect(Array.from(sliceWindow(s, b, 2, 2).targets!)).toEqual([3]);
  });
});

describe('checkDataset errors name the field', () => {
  it.each([
    [{ inputs: [] }, /data.inputs must hold at least one sequence/],
    [{ inputs: [[]] }, /data.inputs\[0\] must hold a positive multiple of 1 values/],
    [{ inputs: [[1.5]] }, /data.inputs\[0\]\[0\] must be a token id in \[0, 9\)/],
    [{ inputs: [[1]], targets: [[1]], labels: [1] }, /either targets \(per step\) or labels/],
    [{ inputs: [[1]], conditions: [[1]] }, /data.conditions given, but the model has no conditioning vector/],
    [{ inputs: [[1]], sources: [[1]] }, /data.sources given, but the model has no encoder/],
    ['nope', /data must be an object with inputs/],
  ])('%#', (data, message) => {
    expect(() => checkDataset('data', data, spec(), false)).toThrow(message);
  });
});
