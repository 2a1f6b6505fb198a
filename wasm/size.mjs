#!/usr/bin/env node
/**
 * Prints what the browser build weighs, raw and gzip'd: wasm/dist/rnnkit.wasm plus the
 * JavaScript of the browser entry (web.js) — and, reported but not budgeted, the relaxed-SIMD
 * and threaded variants wasm/dist/rnnkit-relaxed.wasm, rnnkit-threads.wasm and
 * rnnkit-threads-relaxed.wasm (a browser fetches one of the four; wasm/README.md) —
 *   - always: every module web.js reaches by relative imports, as tsc emits them
 *     (unminified, comments included: an upper bound of what a bundler ships);
 *   - with esbuild available (RNNKIT_ESBUILD=/path/to/esbuild, or node_modules/.bin/esbuild),
 *     bundled and minified for browsers (the package.json "browser" field applied):
 *       · an app: exactly what examples/web/app.js imports from the entry (load a model
 *         trained in Node, generate text, train a model, save it to a Blob) — what a page
 *         that uses rnnkit for real loads, after the bundler's tree-shaking;
 *       · the whole public API (`export *`), for information: no page imports everything
 *         (both tokenizers, stacks, PyTorch import, sentences, word vectors, …).
 * Exits 1 when the app's JS + rnnkit.wasm exceed the 300 KB raw budget (measured on the unminified
 * modules of the whole entry when there is no esbuild), or when the entry reaches a Node
 * built-in or a package import that the package.json "browser" field does not map away.
 *
 *   node wasm/size.mjs               compiles src/web.ts with tsc into a temp dir
 *   node wasm/size.mjs dist          measures an existing build (dist/src/web.js)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { browserExcluded, browserModuleGraph } from './graph.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 300 * 1024;

/** tsc output of the browser entry in a temp dir laid out like the package (dist/src/…). */
function compile(work) {
  const tsc = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/browser/tsconfig.json', '--outDir', path.join(work, 'dist')],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  return path.join(work, 'dist');
}

function findEsbuild() {
  const candidates = [process.env.RNNKIT_ESBUILD, path.join(root, 'node_modules/.bin/esbuild')].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

/** The app whose bundle is budgeted: the names examples/web/app.js imports from the entry. */
const APP = path.join(root, 'examples/web/app.js');

function appImports() {
  const text = readFileSync(APP, 'utf8');
  const m = text.match(/import\s*\{([^}]*)\}\s*from\s*['"][^'"]*\/web\.js['"]/);
  if (!m) throw new Error(`${path.relative(root, APP)} has no import { … } from '…/web.js' to measure`);
  return m[1].split(',').map((n) => n.trim()).filter(Boolean);
}

/** Bundle `exports` ('*' or names) of web.js for browsers, minified; the "browser" field applies. */
function bundle(esbuild, dist, work, exports) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'rnnkit-size', type: 'module', browser: pkg.browser ?? {} }));
  const name = exports === '*' ? 'all' : 'app';
  const entry = path.join(work, `${name}.js`);
  const from = JSON.stringify('./' + path.relative(work, path.join(dist, 'src/web.js')));
  writeFileSync(entry, exports === '*' ? `export * from ${from};\n` : `export { ${exports.join(', ')} } from ${from};\n`);
  const out = path.join(work, `${name}.min.js`);
  const r = spawnSync(esbuild, [entry, '--bundle', '--format=esm', '--platform=browser', '--minify', `--outfile=${out}`, '--log-level=error'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`esbuild cannot bundle the browser entry:\n${r.stderr}`);
  return readFileSync(out);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gz = (b) => gzipSync(b, { level: 9 }).length;

function main() {
  const given = process.argv[2];
  const work = mkdtempSync(path.join(tmpdir(), 'rnnkit-size-'));
  try {
    const dist = given ? path.resolve(given) : compile(work);
    const entry = path.join(dist, 'src', 'web.js');
    if (!existsSync(entry)) throw new Error(`${entry} does not exist (npm run build first, or run without arguments)`);
    const wasmFile = path.join(root, 'wasm', 'dist', 'rnnkit.wasm');
    if (!existsSync(wasmFile)) throw new Error(`${wasmFile} does not exist (npm run build:wasm)`);
    const wasm = readFileSync(wasmFile);
    console.log(`rnnkit.wasm (simd128, budgeted): ${kb(wasm.length)} raw, ${kb(gz(wasm))} gzip`);
    for (const [file, what, missing] of [
      ['rnnkit-relaxed.wasm', 'relaxed SIMD', 'npm run build:wasm with clang-16'],
      ['rnnkit-threads.wasm', 'simd128 + threads', 'npm run build:wasm'],
      ['rnnkit-threads-relaxed.wasm', 'relaxed SIMD + threads', 'npm run build:wasm with clang-16'],
    ]) {
      const variantFile = path.join(root, 'wasm', 'dist', file);
      if (existsSync(variantFile)) {
        const bytes = readFileSync(variantFile);
        console.log(`${file} (${what}, not budgeted): ${kb(bytes.length)} raw, ${kb(gz(bytes))} gzip`);
      } else {
        console.log(`${file}: not built (${missing})`);
      }
    }

    const { files, foreign } = browserModuleGraph(entry, browserExcluded(root, dist));
    const js = Buffer.concat(files.map((f) => readFileSync(f)));
    console.log(`browser entry modules (tsc output, unminified): ${files.length} files, ${kb(js.length)} raw, ${kb(gz(js))} gzip`);
    if (process.env.RNNKIT_SIZE_VERBOSE) for (const f of files) console.log(`  ${path.relative(dist, f).padEnd(40)} ${kb(readFileSync(f).length)}`);
    let counted = js.length;
    let what = 'unminified modules';
    const esbuild = findEsbuild();
    if (esbuild && foreign.length === 0) {
      const all = bundle(esbuild, dist, work, '*');
      console.log(`browser bundle (esbuild, minified), whole API: ${kb(all.length)} raw, ${kb(gz(all))} gzip — with the wasm ${kb(all.length + wasm.length)} (not budgeted)`);
      const names = appImports();
      const app = bundle(esbuild, dist, work, names);
      console.log(`browser bundle (esbuild, minified), an app — examples/web/app.js's ${names.length} imports (${names.join(', ')}): ${kb(app.length)} raw, ${kb(gz(app))} gzip`);
      counted = app.length;
      what = "the app's minified bundle";
    } else if (!esbuild) {
      console.log('browser bundle: not measured (no esbuild; set RNNKIT_ESBUILD=/path/to/esbuild)');
    }
    const total = counted + wasm.length;
    console.log(`total (${what} + rnnkit.wasm): ${kb(total)} raw — budget ${kb(BUDGET)}`);
    for (const f of foreign) {
      console.error(`${f.chain} imports ${JSON.stringify(f.spec)}: a browser bundle cannot resolve it`);
      process.exitCode = 1;
    }
    if (total > BUDGET) {
      console.error(`over budget by ${kb(total - BUDGET)}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
