// examples/char-lm.mjs on tiny settings (20,000 characters, 2 epochs): the LSTM's held-out
// bits per character are well below the unigram floor it prints, and it samples text.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/char-lm.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`learns Moby-Dick's characters from context (${backend})`, async () => {
      const out = await runExample('char-lm', [
        '--chars', '20000', '--hidden', '32', '--seq', '32', '--window', '32', '--lr', '0.02', '--batch', '16', '--epochs', '2', '--sample', '100', '--backend', backend,
      ]);
      expect(out).toMatch(/^20000 characters of Moby-Dick \(\d+ distinct\): 18000 to train on, 2000 held out$/m);
      const [bits, unigram] = numbersOf(out, new RegExp(`^held-out: ([\\d.]+) bits per character \\(unigram ([\\d.]+)\\), trained in \\d+ s on ${backend}$`, 'm'));
      // The unigram floor of English letters and punctuation is about 4.4 bits.
      expect(unigram).toBeGreaterThan(4);
      expect(unigram).toBeLessThan(5);
      expect(bits).toBeLessThan(unigram - 0.5);
      // The sample: the prime and 100 more characters.
      const sample = /^sample \(temperature 0\.7\):\n([\s\S]*)$/m.exec(out)![1].replace(/\n$/, '');
      expect(sample.startsWith('Call me ')).toBe(true);
      expect([...sample].length).toBe('Call me '.length + 100);
    });
  }
});
