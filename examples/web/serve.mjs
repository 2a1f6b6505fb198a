#!/usr/bin/env node
/**
 * A tiny static server for the demo page (no dependencies): serves the repository root, so
 * the page reaches dist/src/web.js and wasm/dist/rnnkit.wasm as an installed package lays
 * them out, with cross-origin isolation headers (COOP/COEP: they give the page
 * SharedArrayBuffer, so on a multi-core machine it loads the threaded module,
 * rnnkit-threads-relaxed.wasm or rnnkit-threads.wasm) and the right types (application/wasm
 * for streaming compilation).
 *
 *   node examples/web/serve.mjs [port]        then open http://localhost:8080/examples/web/
 *
 * Symlinks are followed (a model directory saved by Node links config.json and
 * model.safetensors into .rnnkit/current/). Only GET and HEAD; nothing outside the root.
 */
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export function createDemoServer(base = root) {
  return createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    const fail = (code, text) => {
      res.writeHead(code, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET or HEAD only');
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return fail(400, 'bad URL');
    }
    let file = path.join(base, urlPath);
    if (file !== base && !file.startsWith(base + path.sep)) return fail(403, 'outside the served directory');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        if (!urlPath.endsWith('/')) {
          res.writeHead(301, { ...headers, Location: urlPath + '/' });
          return res.end();
        }
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      fail(404, `not found: ${urlPath}`);
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  createDemoServer().listen(port, () => {
    console.log(`serving ${root}\nopen http://localhost:${port}/examples/web/`);
  });
}
