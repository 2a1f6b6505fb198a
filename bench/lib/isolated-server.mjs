// A static file server on 127.0.0.1 for bench/browser.mjs whose every response makes the page
// cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
// require-corp, and Cross-Origin-Resource-Policy: same-origin so that the page's own scripts,
// wasm files and workers pass its COEP): only then do browsers give a page SharedArrayBuffer
// and shared WebAssembly memory, which rnnkit-threads.wasm and onnxruntime-web's threaded
// wasm need. scripts/static-server.mjs (the browser test's server) sends no such headers.
// URL prefixes map to directories; everything else is a 404.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** @returns {Promise<{url: string, log: string[], close(): Promise<void>}>} */
export async function serveIsolated(mounts) {
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
          res.writeHead(200, { ...ISOLATION_HEADERS, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
          res.end(body);
        }
      } catch {
        // fall through to 404
      }
    }
    if (status === 404) {
      res.writeHead(404, { ...ISOLATION_HEADERS, 'content-type': 'text/plain' });
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
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
