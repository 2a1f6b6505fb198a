// examples/pytorch-roundtrip.mjs: PyTorch's nn.LSTM / nn.GRU weights (safetensors written by
// examples/pytorch/export.py) give PyTorch's outputs in rnnkit; rnnkit's SGD step, exported,
// reloads strictly into PyTorch and equals PyTorch's own step. Needs PyTorch: with no torch
// the example exits non-zero and this test FAILS (it never skips). The Python is
// RNNKIT_PYTHON, else Debian's /usr/bin/python3 (python3-torch), as bench/ does.
import { describe, expect, it } from 'vitest';
import { requestedBackends, runExample } from './run-example.js';

const python = process.env.RNNKIT_PYTHON ?? '/usr/bin/python3';

describe('examples/pytorch-roundtrip.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`PyTorch → rnnkit → PyTorch (${backend})`, async () => {
      const out = await runExample('pytorch-roundtrip', ['--python', python, '--backend', backend]);
      const forward = [...out.matchAll(/^(\w+) \((.*)\): outputs match PyTorch's to ([\d.e+-]+) \((.*)\) on (\w+)$/gm)];
      expect(forward.map((m) => [m[1], m[2], m[4], m[5]])).toEqual([
        ['lstm', '2-layer bidirectional lstm, input 3, hidden 5', 'y, hn, cn', backend],
        ['gru', '1-layer gru, input 3, hidden 4', 'y, hn', backend],
      ]);
      for (const m of forward) expect(Number(m[3])).toBeLessThanOrEqual(1e-5);
      const checked = [...out.matchAll(/^pytorch: (\w+): rnnkit's weights after its SGD step differ from PyTorch's by ([\d.e+-]+); outputs of the reloaded module differ from rnnkit's by ([\d.e+-]+) ok$/gm)];
      expect(checked.map((m) => m[1])).toEqual(['lstm', 'gru']);
      for (const m of checked) {
        expect(Number(m[2])).toBeLessThanOrEqual(1e-5);
        expect(Number(m[3])).toBeLessThanOrEqual(1e-5);
      }
      expect(out).toMatch(/^round trip ok: PyTorch → rnnkit → PyTorch$/m);
    });
  }

  it('fails, naming the Python, when it cannot run PyTorch', async () => {
    await expect(runExample('pytorch-roundtrip', ['--python', '/nonexistent/python3'])).rejects.toThrow(/\/nonexistent\/python3 .*export\.py export failed/);
  });
});
