/**
 * The C++ sources of the wasm build, read from native/sources.json — the one source list
 * shared with CMake and binding.gyp (never keep a second list here).
 *
 * The wasm build takes the common sources, the "all" group if there is one, and the
 * "wasm" group; every other ISA group (avx2, avx512, neon, …) is for native builds only.
 * A group is a list of paths or an object with a "sources" list; paths are relative to
 * native/ (or to the repository root).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WASM_GROUPS = ['common', 'all', 'wasm'];

function groupFiles(group, where) {
  if (group === undefined) return [];
  if (Array.isArray(group)) return group;
  if (group && Array.isArray(group.sources)) return group.sources;
  if (group && Array.isArray(group.files)) return group.files;
  throw new Error(`native/sources.json: ${where} must be a list of paths or { "sources": [...] }`);
}

/** Absolute paths of the translation units to compile, in list order, without duplicates. */
export function wasmSources(root) {
  const file = path.join(root, 'native', 'sources.json');
  if (!existsSync(file)) throw new Error(`${file} does not exist yet (the one C++ source list)`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const containers = [json, json.groups, json.isa].filter((c) => c && typeof c === 'object' && !Array.isArray(c));
  const listed = [];
  for (const name of WASM_GROUPS) {
    for (const c of containers) listed.push(...groupFiles(c[name], `"${name}"`));
  }
  if (json.sources !== undefined && !containers.some((c) => c.common)) listed.push(...groupFiles(json.sources, '"sources"'));
  if (!listed.some((p) => /wasm/.test(p))) {
    throw new Error(`native/sources.json lists no wasm source (groups read: ${WASM_GROUPS.join(', ')})`);
  }
  const out = [];
  for (const rel of listed) {
    if (!/\.(cc|cpp|cxx|c)$/.test(rel)) continue; // headers may be listed for IDEs
    const candidates = [path.join(root, 'native', rel), path.join(root, rel)];
    const abs = candidates.find((p) => existsSync(p));
    if (!abs) throw new Error(`native/sources.json lists ${rel}, which exists in neither native/ nor the repository root`);
    if (!out.includes(abs)) out.push(abs);
  }
  return out;
}
