/**
 * What the wasm loader says about a source that is not the module: a page of HTML (a wrong
 * URL, or a server's single-page-app fallback) is named as such with where it came from
 * (it was a bare "expected magic word 00 61 73 6d"); a string that is not a URL, a null
 * source and a thread count past the pool's 256 are refused naming them; and a source that
 * failed is forgotten, so that the next load without one takes the package's module.
 */
import { describe, expect, it } from 'vitest';
import { createWasmBackend, loadWasmBackend, setWasmSource, setWasmThreads } from '../../src/backend/wasm/backend.js';

const html = new TextEncoder().encode('<!doctype html><html><body>app</body></html>');

describe('wasm sources', () => {
  it('HTML bytes or an HTML response: named, with the likely cause', async () => {
    await expect(createWasmBackend(html)).rejects.toThrow(/^the wasm source given is not the rnnkit WebAssembly module \(it is HTML: a wrong URL or a fallback page\)/);
    const response = new Response(html, { headers: { 'content-type': 'text/html' } });
    await expect(createWasmBackend(response)).rejects.toThrow(/^the response is not the rnnkit WebAssembly module \(it is HTML/);
    await expect(createWasmBackend(new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9, 9]))).rejects.toThrow(/^the wasm source given is not the rnnkit WebAssembly module: /);
  });

  it('a string that is not a URL, a null source, too many threads', async () => {
    await expect(createWasmBackend('http://[::1')).rejects.toThrow(/^the wasm source "http:\/\/\[::1" is not a URL$/);
    expect(() => setWasmSource(null as never)).toThrow(/^the wasm source must be a URL, bytes, a WebAssembly\.Module or a Response; got null$/);
    expect(() => setWasmThreads(1e6, 'init: threads')).toThrow(/^init: threads must be an integer in 0..256 \(0 = every core\); got 1000000$/);
    setWasmThreads(undefined);
  });

  it('a source that failed is forgotten: the next load takes the package module', async () => {
    setWasmSource(html);
    await expect(loadWasmBackend()).rejects.toThrow(/not the rnnkit WebAssembly module/);
    const backend = await loadWasmBackend();
    expect(backend.info().backend).toBe('wasm');
  });
});
