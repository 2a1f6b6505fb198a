/**
 * Absurd generation lengths are refused at once, naming the option, instead of blocking the
 * thread: generate (synchronous, one array) at most MAX_GENERATE_STEPS tokens; a session's
 * sample needs a finite maxLength.
 */
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/index.js';
import { MAX_GENERATE_STEPS } from '../../src/models/model.js';
import { requestedBackends } from '../helpers/backends.js';

for (const backend of requestedBackends() as ('native' | 'wasm' | 'reference')[]) {
  describe(`generation bounds on ${backend}`, () => {
    it('refuses steps over MAX_GENERATE_STEPS and an infinite maxLength, naming them', async () => {
      const m = await createModel({ input: { kind: 'embedding', vocab: 5, dim: 3 }, cell: 'gru', hiddenSize: 4, outputs: 5, backend });
      expect(() => m.generate({ start: [1], steps: 1e12 })).toThrow(new RegExp(`steps must be an integer in 0\\.\\.${MAX_GENERATE_STEPS}; got 1000000000000`));
      expect(m.generate({ start: [1], steps: 3 }).length).toBe(3);
      const s = m.createSession();
      await s.prime([[1]]);
      await expect((async () => { for await (const _ of s.sample({ maxLength: Infinity })) break; })()).rejects.toThrow(/maxLength must be an integer/);
      s.dispose();
      m.dispose();
    });

    it("names the options the caller wrote (start, condition, seed) and checks stopToken", async () => {
      const m = await createModel({ input: { kind: 'embedding', vocab: 5, dim: 3 }, cell: 'gru', hiddenSize: 4, outputs: 5, backend });
      expect(() => m.generate({ start: [7], steps: 3 })).toThrow(/^start\[0\] must be a token id in \[0, 5\) \(vocab\); got 7$/);
      expect(() => m.generate({ start: [], steps: 3 })).toThrow(/^start must hold/);
      expect(() => m.generate({ start: [1], condition: [1], steps: 3 })).toThrow(/^condition given, but the model has no conditioning vector/);
      expect(() => m.generate({ start: [1], steps: 3, seed: '1' as never })).toThrow(/^seed must be an integer; got string "1"$/);
      // stopToken was compared as given: a string or an id past the vocabulary never stopped anything.
      expect(() => m.generate({ start: [1], steps: 3, stopToken: '2' as never })).toThrow(/^stopToken must be an integer in 0\.\.4; got "2"$/);
      expect(() => m.generate({ start: [1], steps: 3, stopToken: 99 })).toThrow(/^stopToken must be an integer in 0\.\.4; got 99$/);
      // A prompt whose buffer was transferred away reads as empty: the error says why.
      const prompt = Int32Array.of(1, 2);
      structuredClone(prompt.buffer, { transfer: [prompt.buffer] });
      const session = m.createSession();
      await expect(session.prime([prompt])).rejects.toThrow(/^prompts\[0\] must hold at least one token id \(its buffer is detached, transferred or resized to 0\)$/);
      session.dispose();
      const greedy = m.generate({ start: [1], steps: 5 });
      expect(m.generate({ start: [1], steps: 5, stopToken: greedy[0] })).toEqual([greedy[0]]);
      m.dispose();
    });
  });
}
