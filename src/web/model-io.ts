/**
 * Models in and out of a page — the same files `rnnkit train` and `model.save(dir)` write in
 * Node, read from wherever a page gets bytes, plus a single-file form for downloads.
 *
 * **A model directory** is what Node writes: `config.json` (format "rnnkit-model", the spec,
 * and `extra`, which holds the tokenizer) and `model.safetensors` (every parameter under its
 * PyTorch name, f32, with the data's CRC-32). Served by any static server, it loads by its
 * URL. See `src/io/model-bytes.ts` for the two files.
 *
 * **A model bundle** is one file holding both: the directory's `model.safetensors` with the
 * text of `config.json`, byte for byte, as one more `__metadata__` entry,
 * `"rnnkit_config"`. Its tensors and data buffer (and so the recorded CRC-32) are exactly
 * those of `model.safetensors`, so a bundle is also an ordinary safetensors file —
 * `safetensors.torch.load_file` reads its weights as it reads the directory's. Suggested
 * name: `<name>.rnnkit.safetensors`.
 *
 * **Where a model comes from** ({@link ModelSource}):
 * - a URL (`URL`, or a string resolved against the page's `document.baseURI`) — its path
 *   decides:
 *   - ending in `.safetensors`: a bundle;
 *   - ending in `/config.json`: the model directory holding that file;
 *   - anything else is a model directory, with or without the trailing slash
 *     (`models/moby` ≡ `models/moby/`): `config.json` and `model.safetensors` are fetched
 *     from it (query and fragment are not carried over). Under Node, `file:` URLs are read
 *     from disk (Node's fetch cannot);
 * - a `Response` (e.g. `await fetch(url)`), an `ArrayBuffer`, a typed array / `DataView` or
 *   a `Blob`: the bytes of a bundle;
 * - a `File`, or a list of files (a `FileList` from `<input type=file multiple>` or a drop,
 *   or an array, or a folder from `<input type=file webkitdirectory>`): one file is a
 *   bundle; otherwise the files named `config.json` and `model.safetensors` are a model
 *   directory (other files are ignored; in a folder Node saved, the top-level files, else
 *   those of `.rnnkit/current/`).
 *
 * Everything is checked as `decodeModel` checks a directory; errors name the URL or file.
 */
import { CONFIG_FILE, WEIGHTS_FILE, decodeModel, encodeModel, type LoadedModel } from '../io/model-bytes.js';
import type { ModelSpec } from '../backend/contract.js';
import { MAX_HEADER_BYTES, SafetensorsError, decodeSafetensors } from '../io/safetensors.js';
import { yieldToEventLoop } from '../event-loop.js';
import { raceAbort } from '../abort.js';
import { checkKnownKeys, keysOf } from '../validate.js';

export type { LoadedModel } from '../io/model-bytes.js';

/** The `__metadata__` key of a bundle that holds `config.json`'s text. */
export const BUNDLE_CONFIG_KEY = 'rnnkit_config';

/** Where a model can be read from in a page; see the module notes. */
export type ModelSource = string | URL | Response | ArrayBuffer | ArrayBufferView | Blob | ArrayLike<Blob> | Iterable<Blob>;

/** Options of {@link readModel} and `loadModel`. */
export interface ReadModelOptions {
  /** Used for URLs instead of the global fetch (e.g. one that adds headers). */
  fetch?: (input: URL, init?: { signal?: AbortSignal }) => Promise<Response>;
  /** Aborts the fetches. */
  signal?: AbortSignal;
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') return (v as object).constructor?.name ?? typeof v;
  return typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
}

const textEncoder = new TextEncoder();

/** The header of safetensors bytes as parsed JSON and its byte length; throws SafetensorsError as decodeSafetensors would. */
function header(bytes: Uint8Array, where: string): { json: Record<string, unknown>; length: number } {
  const bad = (): never => {
    decodeSafetensors(bytes, where); // throws the precise reason
    throw new SafetensorsError(where, 'unreadable safetensors header');
  };
  if (bytes.length < 8) bad();
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n < 2n || n > BigInt(Math.min(bytes.length - 8, MAX_HEADER_BYTES))) bad();
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n))));
  } catch {
    bad();
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) bad();
  return { json: json as Record<string, unknown>, length: Number(n) };
}

/**
 * A bundle from a model directory's two files: `weights` (model.safetensors) with `config`
 * (config.json's text) added to its metadata. The data buffer is copied unchanged.
 */
export function bundleFromFiles(config: string, weights: Uint8Array, where = WEIGHTS_FILE): Uint8Array {
  if (typeof config !== 'string') throw new TypeError(`config must be the text of config.json; got ${show(config)}`);
  const { json, length } = header(weights, where);
  const meta = json.__metadata__;
  // __metadata__ first, as the reference writer puts it (and as encodeSafetensors does).
  const out: Record<string, unknown> = {
    __metadata__: { ...(meta !== null && typeof meta === 'object' ? meta : {}), [BUNDLE_CONFIG_KEY]: config },
  };
  for (const [k, v] of Object.entries(json)) if (k !== '__metadata__') out[k] = v;
  const text = textEncoder.encode(JSON.stringify(out));
  const padded = Math.ceil(text.length / 8) * 8; // the data buffer stays 8-byte aligned
  const data = weights.subarray(8 + length);
  const bytes = new Uint8Array(8 + padded + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.fill(0x20, 8, 8 + padded);
  bytes.set(text, 8);
  bytes.set(data, 8 + padded);
  return bytes;
}

/** Encode a model as a bundle (see the module notes): the single file `modelToBlob` holds. */
export function encodeModelBundle(spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}): Uint8Array {
  const { config, weights } = encodeModel(spec, params, extra);
  return bundleFromFiles(config, weights);
}

/** The text of config.json inside a bundle, or undefined for safetensors bytes that are not one. */
export function bundleConfig(bytes: Uint8Array, where = 'model bundle'): string | undefined {
  const meta = header(bytes, where).json.__metadata__;
  const config = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)[BUNDLE_CONFIG_KEY] : undefined;
  return typeof config === 'string' ? config : undefined;
}

/**
 * Decode and validate a bundle. `where` names it in errors (its embedded config as
 * `<where>/config.json`, its tensors as `<where>/model.safetensors`).
 */
export function decodeModelBundle(bytes: Uint8Array, where = 'model bundle'): LoadedModel {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Uint8Array; got ${show(bytes)}`);
  const config = bundleConfig(bytes, where);
  if (config === undefined) {
    throw new SafetensorsError(
      where,
      `a safetensors file, but not an rnnkit model bundle (its __metadata__ has no "${BUNDLE_CONFIG_KEY}"); ` +
        `a model directory's ${WEIGHTS_FILE} loads with its ${CONFIG_FILE}: give the directory's URL, or both files`,
    );
  }
  // One file: errors name it, and the config by its place in the file's metadata.
  return decodeModel(config, bytes, where, { config: `${where} (__metadata__.${BUNDLE_CONFIG_KEY})`, weights: where });
}

/** A view of `v`'s bytes (no copy). */
function bytesOf(v: ArrayBuffer | ArrayBufferView): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

const isBlob = (v: unknown): v is Blob => typeof Blob !== 'undefined' && v instanceof Blob;
const isResponse = (v: unknown): v is Response => typeof Response !== 'undefined' && v instanceof Response;
const nameOf = (b: Blob): string | undefined => (typeof (b as File).name === 'string' && (b as File).name !== '' ? (b as File).name : undefined);
/** A File's path inside a chosen folder (`webkitRelativePath`), else its name. */
const pathOf = (b: Blob): string | undefined => (b as { webkitRelativePath?: string }).webkitRelativePath || nameOf(b);
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** The page's base URL for relative URLs, if there is a page. */
function baseUrl(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** `source` as an absolute URL; a relative one needs a page to resolve against. */
export function modelUrl(source: string | URL): URL {
  if (source instanceof URL) return new URL(source.href);
  const base = baseUrl();
  try {
    return new URL(source, base);
  } catch {
    throw new TypeError(`${JSON.stringify(source)} is not a URL${base ? '' : ' (a relative URL needs a page to resolve against; give an absolute one)'}`);
  }
}

/**
 * What a model URL names (see the module notes): `{ bundle }` for a URL whose path ends in
 * `.safetensors`, else `{ config, weights }`, the two files of the model directory.
 */
export function modelUrls(source: string | URL): { bundle: URL } | { config: URL; weights: URL } {
  const url = modelUrl(source);
  url.hash = '';
  if (url.pathname.endsWith('.safetensors')) return { bundle: url };
  url.search = '';
  if (url.pathname.endsWith('/' + CONFIG_FILE)) url.pathname = url.pathname.slice(0, -CONFIG_FILE.length);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { config: new URL(CONFIG_FILE, url), weights: new URL(WEIGHTS_FILE, url) };
}

type NodeFsPromises = { readFile(url: URL): Promise<Uint8Array>; stat(url: URL): Promise<{ isFile(): boolean }> };

/** The bytes at `url`: fetched, or read from disk for a file: URL under Node. */
async function fetchBytes(url: URL, options: ReadModelOptions): Promise<Uint8Array> {
  if (url.protocol === 'file:' && !options.fetch) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:fs/promises') as NodeFsPromises) : null;
    if (fs) {
      try {
        // A FIFO would wait forever for a writer, /dev/zero read until memory ran out (io/regular-file.ts).
        if (!(await fs.stat(url)).isFile()) throw new Error('not a regular file');
        return await fs.readFile(url);
      } catch (e) {
        throw new Error(`cannot read ${url.href}: ${(e as Error).message}`);
      }
    }
  }
  const fetchFn = options.fetch ?? (typeof fetch === 'function' ? fetch : undefined);
  if (!fetchFn) throw new Error(`cannot fetch ${url.href}: no fetch in this environment (pass options.fetch)`);
  let response: Response;
  try {
    const fetching = fetchFn(url, options.signal ? { signal: options.signal } : undefined);
    // A fetch that ignores its signal (a custom options.fetch, a stalled server) still ends when aborted.
    response = await (options.signal ? raceAbort(fetching, options.signal, () => { throw abortError(options.signal!); }) : fetching);
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new Error(`cannot fetch ${url.href}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (response === null || typeof response !== 'object' || typeof (response as Response).arrayBuffer !== 'function' || typeof (response as Response).ok !== 'boolean') {
    const got = response === null ? 'null' : typeof response === 'object' ? 'an object that is not a Response' : typeof response;
    throw new TypeError(`cannot fetch ${url.href}: options.fetch must resolve to a Response; it gave ${got}`);
  }
  return responseBytes(response, url.href);
}


/** The error of an aborted fetch: the signal's reason when it is an Error, else an AbortError carrying it. */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('the fetch was aborted'), { name: 'AbortError', cause: signal.reason });
}

async function responseBytes(response: Response, label: string): Promise<Uint8Array> {
  if (!response.ok) throw new Error(`cannot fetch ${label}: HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A model directory from its two files: the names (or folder paths) of `files` pick them. */
async function fromFiles(files: Blob[]): Promise<LoadedModel> {
  if (files.length === 0) throw new TypeError('no files given (a model bundle, or config.json and model.safetensors)');
  if (files.length === 1) {
    const name = pathOf(files[0]) ?? 'model bundle';
    return decodeModelBundle(new Uint8Array(await files[0].arrayBuffer()), name);
  }
  const named = (want: string): Blob => {
    const all = files.filter((f) => baseName(pathOf(f) ?? '') === want);
    // A folder Node saved holds each save under .rnnkit/ too: the top-level file, else the current save's.
    const top = all.filter((f) => !/(^|\/)\.rnnkit\//.test(pathOf(f) ?? ''));
    const current = all.filter((f) => /(^|\/)\.rnnkit\/current\/[^/]+$/.test(pathOf(f) ?? ''));
    const found = top.length > 0 ? top : current;
    if (found.length === 1) return found[0];
    const names = files.map((f) => JSON.stringify(pathOf(f) ?? '(unnamed)')).join(', ');
    throw new TypeError(
      found.length === 0
        ? `the files given (${names}) include no ${want}: give one model bundle, or a model directory's ${CONFIG_FILE} and ${WEIGHTS_FILE}`
        : `the files given (${names}) include ${found.length} files named ${want}; give one model directory's files`,
    );
  };
  const config = named(CONFIG_FILE);
  const weights = named(WEIGHTS_FILE);
  const dir = (pathOf(config) ?? CONFIG_FILE).slice(0, -CONFIG_FILE.length);
  return decodeModel(await config.text(), new Uint8Array(await weights.arrayBuffer()), dir);
}

/**
 * Read and validate a model from `source` (see {@link ModelSource}): its spec, parameters
 * and `extra` (where the tokenizer is). No backend is involved; `loadModel` builds the model.
 */
export async function readModel(source: ModelSource, options: ReadModelOptions = {}): Promise<LoadedModel> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object; got ${show(options)}`);
  checkKnownKeys('options', options, keysOf<ReadModelOptions>({ fetch: true, signal: true }));
  if (typeof source === 'string' || source instanceof URL) {
    const urls = modelUrls(source);
    if ('bundle' in urls) return decodeModelBundle(await fetchBytes(urls.bundle, options), urls.bundle.href);
    const [config, weights] = await Promise.all([fetchBytes(urls.config, options), fetchBytes(urls.weights, options)]);
    // Decoding (checksum, tensors) in a task of its own, not in the one that received the bytes.
    await yieldToEventLoop();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(config);
    } catch {
      throw new Error(`${urls.config.href}: cannot read the model config (not UTF-8 text)`);
    }
    return decodeModel(text, weights, new URL('.', urls.config).href);
  }
  if (isResponse(source)) return decodeModelBundle(await responseBytes(source, source.url || 'the response'), source.url || 'model bundle (response)');
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return decodeModelBundle(bytesOf(source), 'model bundle');
  if (isBlob(source)) return fromFiles([source]);
  if (source !== null && typeof source === 'object') {
    const list = Symbol.iterator in source ? [...(source as Iterable<unknown>)] : Array.from(source as ArrayLike<unknown>);
    list.forEach((f, i) => {
      if (!isBlob(f)) throw new TypeError(`source[${i}] must be a File or Blob; got ${show(f)}`);
    });
    if (list.length > 0 || typeof (source as ArrayLike<unknown>).length === 'number') return fromFiles(list as Blob[]);
  }
  throw new TypeError(
    `source must be a model URL (string or URL), a Response, an ArrayBuffer or typed array, a Blob, or Files; got ${show(source)}`,
  );
}

/** The media type of bundles and of the `model.safetensors` file. */
const OCTETS = 'application/octet-stream';

/** A model's parameters, spec and extra settings as a bundle in a Blob (for a download link). */
export function bundleBlob(spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}): Blob {
  return new Blob([encodeModelBundle(spec, params, extra) as BlobPart], { type: OCTETS });
}

/** A model's two directory files, `config.json` and `model.safetensors`, as Files. */
export function directoryFiles(spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}): File[] {
  const { config, weights } = encodeModel(spec, params, extra);
  return [new File([config], CONFIG_FILE, { type: 'application/json' }), new File([weights as BlobPart], WEIGHTS_FILE, { type: OCTETS })];
}
