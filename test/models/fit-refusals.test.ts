/**
 * fit refuses runs that would silently do nothing or the wrong thing: data whose every
 * target is the ignore index (it "trained" 0 steps and returned a NaN loss), and a resume
 * from a checkpoint taken in a later epoch than the fit runs to (it returned the first epochs'
 * results with the later epoch's updates kept), and a checkpoint directory holding a `latest`
 * or a `step-<n>` that rnnkit did not write (each checkpoint replaced or removed them).
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, FitAbortedError } from '../../src/index.js';

const options = { input: { kind: 'embedding' as const, vocab: 5, dim: 3 }, cell: 'gru' as const, hiddenSize: 4, outputs: 5, backend: 'reference' as const };

describe('fit refusals', () => {
  it('every target the ignore index: a RangeError before any step', async () => {
    const m = await createModel(options);
    const before = m.getParams();
    await expect(m.fit({ inputs: [[1, 2, 3], [2, 3]], targets: [[-100, -100, -100], [-100, -100]] })).rejects.toThrow(/^data: every target is the ignore index \(-100\)/);
    expect(m.getParams()).toEqual(before);
    const labelled = await createModel({ ...options, readout: 'final_state' });
    await expect(labelled.fit({ inputs: [[1, 2], [3]], labels: [-100, -100] })).rejects.toThrow(/every target is the ignore index/);
    await m.fit({ inputs: [[1, 2, 3]], targets: [[-100, 4, -100]] }); // one that counts is enough
  });

  it('resume with fewer epochs than the checkpoint was taken in', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rnnkit-fit-refusals-')), 'ck');
    const data = { inputs: Array.from({ length: 8 }, (_, i) => [i % 5, (i + 1) % 5, (i + 2) % 5]), targets: Array.from({ length: 8 }, (_, i) => [(i + 1) % 5, (i + 2) % 5, (i + 3) % 5]) };
    const m = await createModel(options);
    const stop = new AbortController();
    const run = { epochs: 4, batchSize: 4, checkpoint: { dir, everySteps: 1 } };
    await m.fit(data, { ...run, signal: stop.signal, onProgress: (p) => void (p.epoch === 3 && stop.abort()) }).catch((e) => expect(e).toBeInstanceOf(FitAbortedError));
    await expect(m.fit(data, { ...run, epochs: 2, resume: dir })).rejects.toThrow(/was taken in epoch 3; this fit has epochs 2 \(resume with the same epochs, or more\)/);
    await m.fit(data, { ...run, resume: dir });
  });

  it('a checkpoint directory with a latest or step-<n> rnnkit did not write: refused before training, the files kept', async () => {
    const data = { inputs: [[1, 2, 3], [2, 3, 4]], targets: [[2, 3, 4], [3, 4, 1]] };
    const m = await createModel(options);
    const before = m.getParams();
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['a latest of the user', (d) => writeFileSync(path.join(d, 'latest'), 'v2.1 release notes\n'), /^checkpoint\.dir: .*latest is not the pointer to a checkpoint that rnnkit writes/],
      ['a latest link', (d) => symlinkSync('somewhere', path.join(d, 'latest')), /latest is not the pointer to a checkpoint/],
      ['a step-<n> file', (d) => writeFileSync(path.join(d, 'step-1'), 'notes\n'), /^checkpoint\.dir: .*step-1 is not a checkpoint rnnkit wrote/],
      ['a step-<n> directory of the user', (d) => mkdirSync(path.join(d, 'step-2')), /step-2 is not a checkpoint rnnkit wrote/],
    ];
    for (const [, prepare, message] of cases) {
      const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-ck-dir-'));
      prepare(dir);
      await expect(m.fit(data, { epochs: 1, checkpoint: { dir } })).rejects.toThrow(message);
    }
    expect(m.getParams()).toEqual(before);
    // rnnkit's own checkpoint directory is reused as before.
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rnnkit-ck-dir-')), 'ck');
    await m.fit(data, { epochs: 1, checkpoint: { dir } });
    await m.fit(data, { epochs: 2, checkpoint: { dir } });
    expect(readFileSync(path.join(dir, 'latest'), 'utf8')).toMatch(/^step-\d+\n$/);
  });
});
