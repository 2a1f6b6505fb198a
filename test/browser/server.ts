/**
 * A tiny static file server on 127.0.0.1 for the browser tests: URL prefixes map to
 * directories, everything else is a 404, and every request is logged so a test can check
 * that the page fetched what it should (and nothing failed).
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

export interface StaticServer {
  url: string;
  /** "<status> <path>" of every request, in order. */
  log: string[];
  close(): Promise<void>;
}

export async function serveStatic(mounts: Record<string, string>): Promise<StaticServer> {
  const log: string[] = [];
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server: Server = createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = prefixes.find((p) => urlPath.startsWith(p));
    let status = 404;
    if (prefix !== undefined && !urlPath.includes('..')) {
      const file = path.join(mounts[prefix], urlPath.slice(prefix.length));
      try {
        if ((await stat(file)).isFile()) {
          const body = await readFile(file);
          status = 200;
          res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
          res.end(body);
        }
      } catch {
        // fall through to 404
      }
    }
    if (status === 404) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${urlPath}`);
    }
    log.push(`${status} ${urlPath}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
