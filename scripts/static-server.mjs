/**
 * A tiny static file server on 127.0.0.1 for headless-Chromium runs (the browser test and
 * bench/browser.mjs): URL prefixes map to directories, everything else is a 404, and every
 * request is logged so a test can check that the page fetched what it should (and nothing
 * failed). Types: static-server.d.mts. Not part of the npm package.
 *
 * { isolated: true } sends Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp with every response: the page is then
 * cross-origin isolated, so it has SharedArrayBuffer (rnnkit-threads.wasm needs it).
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

export async function serveStatic(mounts, { isolated = false } = {}) {
  const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const log = [];
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = prefixes.find((p) => urlPath.startsWith(p));
    let status = 404;
    if (prefix !== undefined && !urlPath.includes('..')) {
      const file = path.join(mounts[prefix], urlPath.slice(prefix.length));
      try {
        if ((await stat(file)).isFile()) {
          const body = await readFile(file);
          status = 200;
          res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...isolation });
          res.end(body);
        }
      } catch {
        // fall through to 404
      }
    }
    if (status === 404) {
      res.writeHead(404, { 'content-type': 'text/plain', ...isolation });
      res.end(`not found: ${urlPath}`);
    }
    log.push(`${status} ${urlPath}`);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
