/**
 * Damaged model files, on every backend of RNNKIT_BACKENDS (corrupt-child.mjs does the work,
 * in a child process: a crash, an abort or a hang fails the test instead of killing it).
 *
 * A small saved model (embedding 5×3, 2-layer LSTM of 3, head of 5; its files found through
 * model-files.mjs, so the suite follows the directory layout wherever the files live) is
 * loaded with RnnModel.load after each of:
 *   - every truncation of model.safetensors (0 … length − 1 bytes kept), and one byte added;
 *   - 1,000 random bit flips, half over the header (length field included), half over the
 *     tensor data;
 *   - absurd headers: a header length of 2^64 − 1, 2^53 and 100 MB (claimed, and one real
 *     100 MB + 1 byte header), offsets past the end, negative, reversed, fractional,
 *     overlapping, leaving holes, wrong dtypes and shapes, missing / extra / renamed
 *     tensors, `__proto__`, deeply nested JSON, NaN and Infinity in the data;
 *   - edited configs: wrong types, absurd sizes, missing fields, sizes that do not match
 *     the tensors, not JSON at all;
 *   - a damaged directory, when the save used the atomic layout (dir/.rnnkit/current and
 *     top-level links through it): a dangling `current`, the version or the whole store
 *     deleted, a link replaced by a damaged (or an identical) real file.
 * Each load either succeeds with finite parameters identical to the saved ones wherever the
 * bytes were unchanged, or is refused with an Error naming the file or the field. Files
 * rnnkit writes carry a CRC-32 of their data (__metadata__.rnnkit_data_crc32, src/io), so
 * every data bit flip must be refused — the suite asserts the checksum is there.
 *
 * RNNKIT_CORRUPT_SEED (default 1) chooses the bit flips.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { childResult, expectCleanExit, forEachBackend, requireFreshDist, ROOT, runNode } from '../boundary/backends.js';

const SEED = Number(process.env.RNNKIT_CORRUPT_SEED ?? 1);
const FLIPS = 1000;

interface CorruptResult {
  backend: string;
  hasChecksum: boolean;
  fileBytes: number;
  counts: Record<string, number>;
  violations: string[];
}

forEachBackend((backend) => {
  describe('damaged model files are loaded exactly or refused clearly (child process)', () => {
    it(`every truncation, ${FLIPS} bit flips, absurd headers and edited configs: no crash, no hang, no silent damage`, async () => {
      requireFreshDist();
      const r = await runNode(join(ROOT, 'test/robustness/corrupt-child.mjs'), {
        args: [backend, String(SEED), String(FLIPS)],
        nodeArgs: ['--max-old-space-size=1024'],
        timeoutMs: 240_000,
      });
      expectCleanExit(r, `the corrupt-file child (backend ${backend}, RNNKIT_CORRUPT_SEED=${SEED})`);
      const out = childResult<CorruptResult>(r);
      const c = (k: string) => out.counts[k] ?? 0;
      console.log(`corrupt files ${backend}: ${JSON.stringify(out.counts)}`);
      expect(out.violations, `violations (RNNKIT_CORRUPT_SEED=${SEED}):\n${out.violations.join('\n')}`).toEqual([]);
      expect(c('pristine.loaded'), 'the saved model loads back').toBe(1);
      expect(c('truncate.loads'), 'every truncation offset, and one appended byte').toBe(out.fileBytes + 1);
      expect(c('truncate.refused'), 'every truncated file is refused').toBe(out.fileBytes + 1);
      expect(c('flip-header.loads') + c('flip-data.loads')).toBe(FLIPS);
      // The data's CRC-32 is in every file rnnkit writes: no data flip may load.
      expect(out.hasChecksum, 'model.safetensors written by rnnkit records a checksum of its data').toBe(true);
      expect(c('flip-data.refused'), 'every data bit flip is refused (checksum)').toBe(c('flip-data.loads'));
      expect(c('header.loads')).toBeGreaterThan(50);
      expect(c('config.loads')).toBeGreaterThan(40);
      // The layout cases run when the save made dir/.rnnkit (src/io/atomic-dir.ts).
      if (c('layout.cases') > 0) expect(c('layout.loads')).toBe(c('layout.cases'));
    }, 300_000);
  });
});
