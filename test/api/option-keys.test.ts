/**
 * A key that is not an option is refused wherever the API takes an options object: a
 * misspelt option (`epoch`, `hiddensize`, Adam's `momentum`) used to mean the default
 * silently — a model of the wrong size, one epoch instead of ten. The message names the key
 * as written, the option it resembles and every option there is.
 */
import { describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  createModel,
  createStack,
  encodeSafetensors,
  readModel,
  splitSentences,
  stackFromTensors,
  wordVectorsFor,
} from '../../src/index.js';

const tokens = { input: { kind: 'embedding' as const, vocab: 5, dim: 3 }, cell: 'lstm' as const, hiddenSize: 4, outputs: 5, backend: 'reference' as const };
const data = { inputs: [[1, 2, 3], [2, 3, 4]], targets: [[2, 3, 4], [3, 4, 1]] };

describe('unknown option keys', () => {
  it('createModel: top level, input, dropout, encoder', async () => {
    await expect(createModel({ ...tokens, hiddensize: 8 } as never)).rejects.toThrow(
      /^hiddensize is not an option \(did you mean hiddenSize\?\); expected one of input, cell, hiddenSize, layers,/,
    );
    await expect(createModel({ ...tokens, layer: 2 } as never)).rejects.toThrow(/^layer is not an option \(did you mean layers\?\)/);
    await expect(createModel({ ...tokens, input: { ...tokens.input, size: 3 } } as never)).rejects.toThrow(
      /^input\.size is not a field of input kind "embedding"; expected one of kind, vocab, dim, frozen$/,
    );
    await expect(createModel({ ...tokens, dropout: { inputs: 0.1 } } as never)).rejects.toThrow(/dropout\.inputs is not an option \(did you mean input\?\)/);
    await expect(createModel({ ...tokens, encoder: { input: tokens.input, layers: 2 } } as never)).rejects.toThrow(/^encoder\.layers is not an option; expected one of input, cell$/);
  });

  it('createStack and its forward / backward', async () => {
    await expect(createStack({ cell: 'gru', inputSize: 2, hiddenSize: 3, bidirectionnal: true, backend: 'reference' } as never)).rejects.toThrow(
      /^bidirectionnal is not an option \(did you mean bidirectional\?\); expected one of cell, inputSize, hiddenSize, outputSize, layers, bidirectional, backend, params, init$/,
    );
    await expect(createStack({ cell: 'gru', inputSize: 2, hiddenSize: 3, batch_first: true, backend: 'reference' } as never)).rejects.toThrow(/^batch_first is not an option/);
    const stack = await createStack({ cell: 'gru', inputSize: 2, hiddenSize: 3, backend: 'reference' });
    const spec = { cell: 'gru' as const, inputSize: 2, hiddenSize: 3, outputSize: 3, layers: 1, bidirectional: false };
    await expect(createStack({ spec, params: stack.getFlatParameters(), bias: false } as never)).rejects.toThrow(/^bias is not an option; expected one of spec, params, backend$/);
    await expect(stack.forward(new Float32Array(4), { steps: 2, batch: 1, hx: new Float32Array(3) } as never)).rejects.toThrow(/^hx is not an option; expected one of steps, batch, h0, c0, lengths, training$/);
    await stack.forward(new Float32Array(4), { steps: 2, batch: 1, training: true });
    await expect(stack.backward({ dy: new Float32Array(6), dh: new Float32Array(3) } as never)).rejects.toThrow(/^dh is not an option \(did you mean dhn\?\)/);
    stack.dispose();
  });

  it('fit: its options and those of optimizer, clip, earlyStopping, checkpoint', async () => {
    const model = await createModel(tokens);
    const refused: [object, RegExp][] = [
      [{ epoch: 3 }, /^epoch is not an option \(did you mean epochs\?\); expected one of epochs, batchSize,/],
      [{ batch_size: 2 }, /^batch_size is not an option \(did you mean batchSize\?\)/],
      [{ optimizer: { name: 'adam', lr: 0.01, momentum: 0.9 } }, /^optimizer\.momentum is not an option of adam; expected one of name, lr, betas, eps, weightDecay$/],
      [{ optimizer: { name: 'sgd', lr: 0.01, weight_decay: 0.1 } }, /^optimizer\.weight_decay is not an option of sgd \(did you mean weightDecay\?\)/],
      [{ clip: { max_norm: 1 } }, /^clip\.max_norm is not an option \(did you mean maxNorm\?\); expected one of clipValue, maxNorm$/],
      [{ earlyStopping: { patients: 2 } }, /^earlyStopping\.patients is not an option \(did you mean patience\?\); expected one of monitor, patience, minDelta, restoreBest$/],
      // A typo or two names the option meant; further off, only the list.
      [{ lerningRate: () => 0.1 }, /^lerningRate is not an option \(did you mean learningRate\?\)/],
      [{ shufle: true }, /^shufle is not an option \(did you mean shuffle\?\)/],
      [{ banana: true }, /^banana is not an option; expected one of/],
      [{ checkpoint: { dir: '/tmp/x', every: 5 } }, /^checkpoint\.every is not an option \(did you mean everySteps\?\)/],
    ];
    for (const [options, message] of refused) await expect(model.fit(data, options as never)).rejects.toThrow(message);
    // Nothing was trained by the refused calls: the known options still work.
    const result = await model.fit(data, { epochs: 2, batchSize: 2, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0 }, clip: { maxNorm: 1 } });
    expect(result.epochs).toHaveLength(2);
    model.dispose();
  });

  it('evaluate, predict, generate, sessions and sample', async () => {
    const model = await createModel(tokens);
    await expect(model.evaluate(data, { batchsize: 1 } as never)).rejects.toThrow(/^batchsize is not an option \(did you mean batchSize\?\)/);
    await expect(model.predict(data, { last: true } as never)).rejects.toThrow(/^last is not an option \(did you mean lastStep\?\)/);
    expect(() => model.generate({ start: [1], steps: 3, temperatur: 0.5 } as never)).toThrow(/^temperatur is not an option \(did you mean temperature\?\)/);
    expect(() => model.generate({ start: [1], steps: 3, top_p: 0.5 } as never)).toThrow(/^top_p is not an option \(did you mean topP\?\)/);
    expect(() => model.createSession({ batchSize: 2 } as never)).toThrow(/^options\.batchSize is not an option \(did you mean batch\?\)/);
    const session = model.createSession();
    await session.prime([[1]]);
    await expect(session.sample({ maxLength: 2, stopToken: 3 } as never).next()).rejects.toThrow(/^stopToken is not an option \(did you mean stopTokens\?\)/);
    session.dispose();
    model.dispose();
  });

  it('text tools and file formats', async () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.decode([0, 1], { skipSpecial: true } as never)).toThrow(/^options\.skipSpecial is not an option \(did you mean skipSpecials\?\)/);
    expect(() => splitSentences('A. B.', { abbrevs: ['a'] } as never)).toThrow(/^options\.abbrevs is not an option/);
    expect(() => wordVectorsFor('a 1 2\n', tok, { lowercase: false } as never)).toThrow(/^options\.lowercase is not an option \(did you mean lowercaseFallback\?\)/);
    const t = (name: string, shape: number[]) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const tensors = [t('weight_ih_l0', [6, 2]), t('weight_hh_l0', [6, 2]), t('bias_ih_l0', [6]), t('bias_hh_l0', [6])];
    expect(() => stackFromTensors(tensors, { nonlinearity: 'relu' } as never)).toThrow(/^options\.nonlinearity is not an option; expected one of cell, prefix$/);
    const bytes = encodeSafetensors(tensors);
    await expect(readModel(new Blob([bytes]), { headers: {} } as never)).rejects.toThrow(/^options\.headers is not an option; expected one of fetch, signal$/);
  });
});
