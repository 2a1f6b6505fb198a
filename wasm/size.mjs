#!/usr/bin/env node
/**
 * Prints what the browser build weighs: every JavaScript module the browser entry
 * (web.js) reaches through relative imports — as tsc emits them, unminified, comments
 * included, so an upper bound of what a bundler ships — plus wasm/dist/rnnkit.wasm, raw
 * and gzip'd. Exits 1 when JS + wasm exceed the budget (300 KB raw), or when the entry
 * reaches a Node built-in or a package import (which breaks browser bundles).
 *
 *   node wasm/size.mjs               compiles src/web.ts with tsc into a temp dir
 *   node wasm/size.mjs dist          measures an existing build (dist/src/web.js)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { browserExcluded, browserModuleGraph } from './graph.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 300 * 1024;

function compile() {
  const out = mkdtempSync(path.join(tmpdir(), 'rnnkit-size-'));
  const tsc = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/browser/tsconfig.json', '--outDir', out],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  return out;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function main() {
  const given = process.argv[2];
  const dist = given ? path.resolve(given) : compile();
  try {
    const entry = path.join(dist, 'src', 'web.js');
    if (!existsSync(entry)) throw new Error(`${entry} does not exist (npm run build first, or run without arguments)`);
    const { files, foreign } = browserModuleGraph(entry, browserExcluded(root, dist));
    const js = files.map((f) => readFileSync(f));
    const jsRaw = js.reduce((a, b) => a + b.length, 0);
    const jsGzip = gzipSync(Buffer.concat(js), { level: 9 }).length;
    const wasmFile = path.join(root, 'wasm', 'dist', 'rnnkit.wasm');
    if (!existsSync(wasmFile)) throw new Error(`${wasmFile} does not exist (npm run build:wasm)`);
    const wasm = readFileSync(wasmFile);
    const wasmGzip = gzipSync(wasm, { level: 9 }).length;
    console.log(`browser entry JS (package.json "browser" exclusions applied): ${files.length} modules, ${kb(jsRaw)} raw, ${kb(jsGzip)} gzip (unminified tsc output)`);
    for (const f of files) console.log(`  ${path.relative(dist, f).padEnd(40)} ${kb(readFileSync(f).length)}`);
    console.log(`rnnkit.wasm:      ${kb(wasm.length)} raw, ${kb(wasmGzip)} gzip`);
    const total = jsRaw + wasm.length;
    console.log(`total:            ${kb(total)} raw, ${kb(jsGzip + wasmGzip)} gzip — budget ${kb(BUDGET)} raw`);
    for (const f of foreign) {
      console.error(`${f.chain} imports ${JSON.stringify(f.spec)}: a browser bundle cannot resolve it`);
      process.exitCode = 1;
    }
    if (total > BUDGET) {
      console.error(`over budget by ${kb(total - BUDGET)}`);
      process.exitCode = 1;
    }
  } finally {
    if (!given) rmSync(dist, { recursive: true, force: true });
  }
}

main();
