/**
 * The browser entry in a real browser: headless Chromium loads src/web.ts (compiled by tsc,
 * unbundled, as ES modules from a 127.0.0.1 server), which fetches wasm/dist/rnnkit-relaxed.wasm
 * (Chromium has relaxed SIMD) and not rnnkit.wasm, and runs every golden case forward and
 * backward in the page on each kernel path — the relaxed-SIMD module, the simd128 module and
 * the module's scalar table — one page per path; the results are compared here with the
 * golden values at the golden tolerances (test/helpers/tolerances.ts).
 *
 * Loading the modules unbundled also proves the entry is browser-clean: any import of a
 * Node built-in or a bare package name fails to resolve in the page and fails the test.
 * Nothing here skips: no Chromium, no wasm module (either variant) or a page that cannot
 * start is a failure.
 *
 *   npm run build:wasm && npm run test:browser
 *   CHROMIUM_PATH=/path/to/chrome  (default /usr/bin/chromium)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/backend/layout.js';
import { createModel } from '../../src/models/model.js';
import { expectClose } from '../helpers/compare.js';
import { loadGoldenCases, repoRoot, type GoldenCase } from '../helpers/golden.js';
import { GOLDEN_F32, scaledBound } from '../helpers/tolerances.js';
import { serveStatic, type StaticServer } from '../../scripts/static-server.mjs';
// @ts-expect-error — plain .mjs helper shared with wasm/size.mjs, no type declarations
import { browserExcluded, browserModuleGraph } from '../../wasm/graph.mjs';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let outDir: string;
let server: StaticServer;
/** The same files with COOP/COEP: its pages are cross-origin isolated (SharedArrayBuffer, rnnkit-threads.wasm). */
let isolatedServer: StaticServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let setupError: unknown = null;

/** Every test starts here: a setup failure fails each test (vitest would mark them skipped). */
function ready(): void {
  if (setupError) throw setupError;
}

beforeAll(async () => {
  try {
    await setup();
  } catch (e) {
    setupError = e;
  }
});

async function setup(): Promise<void> {
  outDir = mkdtempSync(path.join(tmpdir(), 'rnnkit-browser-'));
  const tsc = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'test/browser/tsconfig.json', '--outDir', path.join(outDir, 'dist')],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc could not compile the browser entry:\n${tsc.stdout}${tsc.stderr}`);
  // The page imports the entry itself (an import() inside page.evaluate would be rewritten
  // by vitest's transform) and reports the module or the reason it failed to load.
  writeFileSync(
    path.join(outDir, 'test.html'),
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>rnnkit test</title>
<script type="module">
// load.js: the backend the entry loaded, for forceIsa('scalar') (the same module instance).
Promise.all([import('/dist/src/web.js'), import('/dist/src/backend/load.js')]).then(
  ([m, load]) => { window.rnnkitLoad = load; window.rnnkit = m; },
  (e) => { window.rnnkitError = String(e && e.stack || e); });
</script>`,
  );
  // The URL layout of the installed package: /dist/src/web.js next to /wasm/dist/rnnkit.wasm.
  const mounts = {
    '/dist/': path.join(outDir, 'dist'),
    '/wasm/dist/': path.join(repoRoot, 'wasm/dist'),
    '/elsewhere/': path.join(repoRoot, 'wasm/dist'),
    // Where an app that bundles thread-worker.js itself serves it (setWasmThreadWorker).
    '/bundled-threads/': path.join(outDir, 'dist/src/backend/wasm'),
    '/': outDir,
  };
  server = await serveStatic(mounts);
  isolatedServer = await serveStatic(mounts, { isolated: true });
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await openPage();
}

/** A fresh page with the entry loaded (its own module instance: init picks the variant anew). */
async function openPage(isolated = false): Promise<Page> {
  const p = await browser.newPage();
  p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
  });
  await p.goto(`${(isolated ? isolatedServer : server).url}/test.html`);
  await p.waitForFunction(() => (window as any).rnnkit || (window as any).rnnkitError, undefined, { timeout: 60_000 });
  if ((await p.evaluate(() => crossOriginIsolated)) !== isolated) throw new Error(`the page's crossOriginIsolated is not ${isolated}`);
  const loadError = await p.evaluate(() => (window as any).rnnkitError as string | undefined);
  if (loadError) throw new Error(`the browser entry failed to load in Chromium: ${loadError}`);
  return p;
}

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await isolatedServer?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** What the page gets for one case: plain arrays (float32-exact inputs). */
function pageInput(c: GoldenCase) {
  const arr = (a?: Float64Array) => (a ? Array.from(a) : undefined);
  return {
    id: c.id,
    options: { cell: c.spec.cell, inputSize: c.spec.inputSize, hiddenSize: c.spec.hiddenSize, layers: c.spec.layers, bidirectional: c.spec.bidirectional },
    steps: c.steps,
    batch: c.batch,
    params: arr(c.params),
    x: arr(c.x),
    h0: arr(c.h0),
    c0: arr(c.c0),
    dy: arr(c.dy),
    dhn: arr(c.dhn),
    dcn: arr(c.dcn),
  };
}

type PageInput = ReturnType<typeof pageInput>;
interface PageOutput {
  id: string;
  y: number[];
  hn: number[];
  cn?: number[];
  dx: number[];
  dh0: number[];
  dc0?: number[];
  grads: number[];
}

describe('browser entry in headless Chromium', () => {
  it('loads as ES modules in a real browser and reports the wasm backend on rnnkit-relaxed.wasm, not fetching rnnkit.wasm', async () => {
    ready();
    const before = server.log.length;
    const got = await page.evaluate(async () => {
      const web = (window as any).rnnkit;
      // Threads asked for on a page that is not cross-origin isolated: one runs, and a warning says why.
      const warnings: string[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
      try {
        const threaded = await web.init({ threads: 2 });
        const info = await web.init();
        // Once loaded, the module stays: a later variant warns and is not used.
        const late = await web.init({ variant: 'simd128' });
        return { info, threaded, late, warnings, process: typeof (globalThis as any).process, require: typeof (globalThis as any).require };
      } finally {
        console.warn = warn;
      }
    });
    expect(got.late).toMatchObject({ isa: 'wasm-relaxed-simd' });
    // Chromium validates relaxed SIMD: the loader's probe picks the relaxed module.
    expect(got.info).toMatchObject({ backend: 'wasm', isa: 'wasm-relaxed-simd', threads: 1, runsOn: 'worker' });
    expect(got.threaded).toMatchObject({ threads: 1 });
    expect(got.warnings).toEqual([
      expect.stringMatching(/^rnnkit: 2 threads asked, 1 runs: the page is not cross-origin isolated/),
      expect.stringMatching(/^rnnkit: init\(…\) after the WebAssembly module was loaded .*the first module stays/),
    ]);
    // The page is a browser, not Node: the entry cannot lean on Node globals.
    expect(got.process).toBe('undefined');
    expect(got.require).toBe('undefined');
    const requests = server.log.slice(before);
    expect(requests).toContain('200 /wasm/dist/rnnkit-relaxed.wasm');
    expect(requests.filter((l) => l.includes('/wasm/dist/rnnkit.wasm'))).toEqual([]);
  });

  it('on a cross-origin-isolated page, auto loads rnnkit-threads-relaxed.wasm with every core; its workers start, and the worker computes what the page does', async () => {
    ready();
    const p = await openPage(true);
    const before = isolatedServer.log.length;
    let got: { info: Record<string, unknown>; cores: number; same: boolean; withThreads: number; maxDiff: number; file: string };
    try {
      got = await p.evaluate(async () => {
        const web = (window as any).rnnkit;
        const info = await web.init();
        // A forward large enough to be split (batch 64): in the worker, then on the page's own instance.
        const opts = { cell: 'lstm', inputSize: 64, hiddenSize: 128, init: { seed: 5 } };
        const stack = await web.createStack(opts);
        const x = new Float32Array(10 * 64 * 64).map((_, i) => Math.sin(i) * 0.5);
        const a = await stack.forward(x, { steps: 10, batch: 64 });
        const b = stack.forwardSync(x, { steps: 10, batch: 64 });
        let maxDiff = 0;
        for (let i = 0; i < a.y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.y[i] - b.y[i]));
        stack.dispose();
        return { info, cores: navigator.hardwareConcurrency, same: a.y.length === b.y.length, withThreads: (await web.backendInfo()).threads, maxDiff, file: web.autoWasmFile() };
      });
    } finally {
      await p.close();
    }
    expect(got.info).toMatchObject({ backend: 'wasm', isa: 'wasm-relaxed-simd', threads: got.cores, runsOn: 'worker' });
    expect(got.same).toBe(true);
    expect(got.maxDiff).toBe(0);
    const requests = isolatedServer.log.slice(before);
    expect(requests).toContain('200 /wasm/dist/rnnkit-threads-relaxed.wasm');
    // autoWasmFile() names the file init() chose (for bundlers that leave the .wasm files behind).
    expect(got.file).toBe(got.cores > 1 ? 'rnnkit-threads-relaxed.wasm' : 'rnnkit-relaxed.wasm');
    expect(requests.filter((l) => /rnnkit(-relaxed|-threads)?\.wasm/.test(l))).toEqual([]);
    // Each instance (the worker's and the page's) asks for its helpers: the thread worker's script is fetched.
    if (got.cores > 1) expect(requests, requests.join('\n')).toContain('200 /dist/src/backend/wasm/thread-worker.js');
  });

  it('setWasmThreadWorker(url): the helpers start from that URL, in the engine worker too', async () => {
    ready();
    const p = await openPage(true);
    const before = isolatedServer.log.length;
    let info: Record<string, unknown>;
    try {
      info = await p.evaluate(async () => {
        const web = (window as any).rnnkit;
        web.setWasmThreadWorker('/bundled-threads/thread-worker.js'); // relative to the page
        const info = await web.init({ variant: 'threads' });
        const stack = await web.createStack({ cell: 'gru', inputSize: 32, hiddenSize: 128, init: { seed: 2 } });
        const x = new Float32Array(8 * 64 * 32).fill(0.25);
        await stack.forward(x, { steps: 8, batch: 64 }); // in the engine's worker
        stack.forwardSync(x, { steps: 8, batch: 64 }); // on the page's instance
        stack.dispose();
        await new Promise((r) => setTimeout(r, 500)); // the helpers fetch their script
        return { ...info, cores: navigator.hardwareConcurrency };
      });
    } finally {
      await p.close();
    }
    expect(info).toMatchObject({ isa: 'wasm-simd128', threads: info.cores });
    const requests = isolatedServer.log.slice(before);
    // cores - 1 helpers for the page's instance and as many for the worker's: all from the URL given.
    expect(requests.filter((l) => l === '200 /bundled-threads/thread-worker.js').length, requests.join('\n')).toBe(2 * ((info.cores as number) - 1));
    expect(requests.filter((l) => l.includes('/dist/src/backend/wasm/thread-worker.js'))).toEqual([]);
  });

  it('init({ variant }) forces a module; a bad variant is refused', async () => {
    ready();
    const other = await openPage();
    const before = server.log.length;
    const got = await other.evaluate(async () => {
      const web = (window as any).rnnkit;
      let bad = '';
      try {
        await web.init({ variant: 'fast' });
      } catch (e) {
        bad = String((e as Error).message);
      }
      return { bad, info: await web.init({ variant: 'simd128' }) };
    });
    await other.close();
    expect(got.bad).toMatch(/variant must be one of "simd128", "relaxed", "threads", "threads-relaxed", "auto"; got "fast"/);
    expect(got.info).toMatchObject({ backend: 'wasm', isa: 'wasm-simd128' });
    const requests = server.log.slice(before);
    expect(requests).toContain('200 /wasm/dist/rnnkit.wasm');
    expect(requests.filter((l) => l.includes('rnnkit-relaxed.wasm'))).toEqual([]);
  });

  const cases = loadGoldenCases();
  it('has the 18 golden cases to run', () => {
    expect(cases.length).toBe(18);
  });

  // Each kernel path in its own page: the relaxed-SIMD module (fmadd = relaxed_madd), the
  // simd128 module, and the scalar table (of the simd128 module; the same C++ in both).
  const PATHS = [
    { name: 'relaxed-simd (rnnkit-relaxed.wasm)', variant: 'relaxed', scalar: false, isa: 'wasm-relaxed-simd' },
    { name: 'simd128 (rnnkit.wasm)', variant: 'simd128', scalar: false, isa: 'wasm-simd128' },
    { name: 'scalar table (rnnkit.wasm, forceIsa)', variant: 'simd128', scalar: true, isa: 'scalar' },
    { name: 'threads (rnnkit-threads.wasm, cross-origin isolated, every core)', variant: 'threads', scalar: false, isa: 'wasm-simd128' },
    { name: 'threads + relaxed SIMD (rnnkit-threads-relaxed.wasm, cross-origin isolated, every core)', variant: 'threads-relaxed', scalar: false, isa: 'wasm-relaxed-simd' },
  ] as const;
  for (const kp of PATHS) {
    it(`runs every golden case forward and backward in the page within the golden tolerances: ${kp.name}`, async () => {
      ready();
      const p = await openPage(kp.variant.startsWith('threads'));
      let run: { isa: string; runsOn: string; outputs: PageOutput[] };
      try {
        run = await p.evaluate(
          async ({ inputs, variant, scalar }) => {
            const web = (window as any).rnnkit;
            await web.init({ variant });
            if (scalar) (await (window as any).rnnkitLoad.loadBackend('wasm')).forceIsa('scalar');
            const isa = (await web.backendInfo()).isa as string;
            const f32 = (a?: number[]) => (a ? new Float32Array(a) : undefined);
            const results: PageOutput[] = [];
            for (const c of inputs) {
              const stack = await web.createStack(c.options);
              stack.setFlatParameters(f32(c.params));
              // forward/backward are asynchronous: they run in the worker, on its copy of the module.
              const fwd = await stack.forward(f32(c.x), { steps: c.steps, batch: c.batch, h0: f32(c.h0), c0: f32(c.c0), training: true });
              const bwd = await stack.backward({ dy: f32(c.dy), dhn: f32(c.dhn), dcn: f32(c.dcn) });
              const arr = (a: Float32Array) => Array.from(a);
              results.push({
                id: c.id,
                y: arr(fwd.y),
                hn: arr(fwd.hn),
                cn: fwd.cn && arr(fwd.cn),
                dx: arr(bwd.dx),
                dh0: arr(bwd.dh0),
                dc0: bwd.dc0 && arr(bwd.dc0),
                grads: arr(stack.getFlatGradients()),
              });
              stack.dispose();
            }
            return { isa, runsOn: (await web.backendInfo()).runsOn as string, outputs: results };
          },
          { inputs: cases.map(pageInput), variant: kp.variant, scalar: kp.scalar },
        );
      } finally {
        await p.close();
      }
      expect(run.isa).toBe(kp.isa);
      expect(run.runsOn).toBe('worker');
      const outputs = run.outputs;
      expect(outputs.map((o) => o.id)).toEqual(cases.map((c) => c.id));
      cases.forEach((c, k) => {
        const o = outputs[k];
        const fwd = GOLDEN_F32.forwardAbs;
        expectClose(`${kp.isa} ${c.id} y`, o.y, c.y, fwd);
        expectClose(`${kp.isa} ${c.id} hn`, o.hn, c.hn, fwd);
        if (c.cn) expectClose(`${kp.isa} ${c.id} cn`, o.cn, c.cn, fwd);
        const rel = GOLDEN_F32.gradRel;
        expectClose(`${kp.isa} ${c.id} dx`, o.dx, c.dx, scaledBound(rel, c.dx));
        expectClose(`${kp.isa} ${c.id} dh0`, o.dh0, c.dh0, scaledBound(rel, c.dh0));
        if (c.dc0) expectClose(`${kp.isa} ${c.id} dc0`, o.dc0, c.dc0, scaledBound(rel, c.dc0));
        for (const e of paramLayout(c.spec).entries) {
          const expected = c.paramGrads.get(e.name)!;
          expectClose(`${kp.isa} ${c.id} grad ${e.name}`, o.grads.slice(e.offset, e.offset + e.size), expected, scaledBound(rel, expected));
        }
      });
    });
  }

  it('trains a model in the page as the wasm backend does in Node (to 1e-6)', async () => {
    ready();
    // Same wasm module, same TypeScript, fixed seeds: the page must reproduce Node's run
    // (up to the last bits of Math.exp & co., which may differ between V8 versions). Node 20
    // runs rnnkit.wasm (no relaxed SIMD without a flag), so the page is made to as well.
    const model = {
      input: { kind: 'embedding' as const, vocab: 7, dim: 5 },
      cell: 'gru' as const,
      hiddenSize: 9,
      layers: 2,
      outputs: 7,
      init: { seed: 3 },
    };
    const data = {
      inputs: [[1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [6, 5, 4, 3], [0, 1, 2]],
      targets: [[2, 3, 4, 5, 6], [3, 4, 5, 6, 0], [5, 4, 3, 2], [1, 2, 3]],
    };
    const fit = { epochs: 4, batchSize: 2, seed: 1, optimizer: { name: 'adam' as const, lr: 0.02 } };
    const simdPage = await openPage();
    const inPage: { losses: number[]; params: number[]; backend: string } = await simdPage.evaluate(
      async ({ model, data, fit }) => {
        const web = (window as any).rnnkit;
        await web.init({ variant: 'simd128' });
        const m = await web.createModel(model);
        const result = await m.fit(data, fit);
        const out = { losses: result.epochs.map((e: { loss: number }) => e.loss), params: Array.from(m.getParams() as Float32Array), backend: m.backend };
        m.dispose();
        return out;
      },
      { model, data, fit },
    );
    await simdPage.close();
    const node = await createModel({ ...model, backend: 'wasm' });
    const result = await node.fit(data, fit);
    const losses = result.epochs.map((e) => e.loss);
    const params = node.getParams();
    node.dispose();
    expect(inPage.backend).toBe('wasm');
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]); // it learned something
    expectClose('losses', inPage.losses, losses, 1e-6);
    expectClose('parameters after training', inPage.params, params, 1e-5);
  });

  it('init(url) takes the module from where it is told', async () => {
    ready();
    const other = await browser.newPage();
    await other.goto(`${server.url}/test.html`);
    await other.waitForFunction(() => (window as any).rnnkit || (window as any).rnnkitError);
    const before = server.log.length;
    const info = await other.evaluate(async () => {
      const web = (window as any).rnnkit;
      const first = await web.init(new URL('/elsewhere/rnnkit.wasm', location.href));
      // Zero parameters (3·2 + 3·3 + 3 + 3), so that y = tanh(0).
      const stack = await web.createStack({ cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3, params: new Float32Array(21) });
      const { y } = stack.forwardSync(new Float32Array([1, 2]), { steps: 1, batch: 1 });
      return { first, y: Array.from(y as Float32Array) };
    });
    await other.close();
    expect(info.first.backend).toBe('wasm');
    expect(info.y).toEqual([0, 0, 0]);
    const requests = server.log.slice(before);
    expect(requests).toContain('200 /elsewhere/rnnkit.wasm');
    // Exactly that URL: neither package module, although this browser would pick the relaxed one.
    expect(requests.filter((l) => l.includes('/wasm/dist/'))).toEqual([]);
  });

  // The demo page (examples/web/) is tested in models.test.ts, with the model it loads.

  it('reaches no Node built-in or package import, even lazily (what a bundler would follow)', () => {
    ready();
    // Modules the package's "browser" field maps to false are replaced by bundlers.
    const excluded = browserExcluded(repoRoot, path.join(outDir, 'dist'));
    const { foreign } = browserModuleGraph(path.join(outDir, 'dist/src/web.js'), excluded) as {
      foreign: { spec: string; chain: string }[];
    };
    expect(foreign.map((f) => `${f.chain} imports ${f.spec}`)).toEqual([]);
  });

  it('had no page errors and no failed requests', () => {
    ready();
    expect(pageErrors).toEqual([]);
    expect([...server.log, ...isolatedServer.log].filter((l) => !l.startsWith('200 '))).toEqual([]);
  });
});
