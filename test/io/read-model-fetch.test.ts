/**
 * readModel over `options.fetch` (what a page, or Node with a custom fetch, does): an abort
 * ends a fetch that ignores its signal; a fetch that throws something other than an Error,
 * or returns something other than a Response, is named as such; an HTML page where a bundle
 * was expected is called HTML (it was "header length 8104636974849335612 exceeds …").
 */
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/web/model-io.js';

const URL_ = 'https://example.invalid/models/moby.safetensors';

describe('readModel with options.fetch', () => {
  it('an abort ends a fetch that never settles', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    const err = await readModel(URL_, { fetch: () => new Promise<Response>(() => {}), signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5000);
    // Already aborted: refused at once.
    await expect(readModel(URL_, { fetch: () => new Promise<Response>(() => {}), signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('names what a fetch threw or returned when it is not an Error or a Response', async () => {
    await expect(readModel(URL_, { fetch: () => Promise.reject(42) })).rejects.toThrow(/^cannot fetch https:\/\/example\.invalid\/models\/moby\.safetensors: 42$/);
    await expect(readModel(URL_, { fetch: async () => ({ status: 200 }) as never })).rejects.toThrow(/options\.fetch must resolve to a Response; it gave an object that is not a Response$/);
    await expect(readModel(URL_, { fetch: async () => undefined as never })).rejects.toThrow(/options\.fetch must resolve to a Response; it gave undefined$/);
  });

  it('an HTML page where a bundle was expected is called HTML', async () => {
    const page = '<!doctype html><html><body>Not found</body></html>';
    await expect(readModel(URL_, { fetch: async () => new Response(page, { status: 200 }) })).rejects.toThrow(/this is HTML, not safetensors: a wrong URL, or a server that answers a missing file with a page/);
  });
});
