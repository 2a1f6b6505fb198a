/**
 * The C++ sources of the wasm build, read from native/sources.json — the one source list
 * shared with CMake and binding.gyp (never keep a second list here).
 *
 * The wasm build compiles "common", "isa.all" and every group under "isa.wasm" (each group
 * with its own extra "flags"), adds "include_dirs" and the "defines.wasm" macros. The other
 * architectures' groups (x64 avx2/avx512, arm64 neon) are for native builds only. Paths are
 * relative to the repository root.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function list(value, where) {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new Error(`native/sources.json: ${where} must be a list of strings`);
}

/**
 * { units: [{ file, flags }], includeDirs, defines } for the wasm build; paths absolute.
 * Throws if the list names a file that does not exist or has no wasm group.
 */
export function wasmBuildInputs(root) {
  const file = path.join(root, 'native', 'sources.json');
  if (!existsSync(file)) throw new Error(`${file} does not exist (the one C++ source list)`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const units = [];
  const add = (rel, flags, where) => {
    if (!/\.(cc|cpp|cxx|c)$/.test(rel)) return; // headers may be listed for IDEs
    const abs = path.resolve(root, rel);
    if (!existsSync(abs)) throw new Error(`native/sources.json (${where}) lists ${rel}, which does not exist`);
    if (!units.some((u) => u.file === abs)) units.push({ file: abs, flags });
  };
  for (const rel of list(json.common, '"common"')) add(rel, [], 'common');
  for (const rel of list(json.isa?.all, '"isa.all"')) add(rel, [], 'isa.all');
  const wasmGroups = json.isa?.wasm;
  if (!wasmGroups || typeof wasmGroups !== 'object' || Object.keys(wasmGroups).length === 0) {
    throw new Error('native/sources.json has no "isa.wasm" group (native/src/isa/wasm.cc and its flags)');
  }
  for (const [name, group] of Object.entries(wasmGroups)) {
    const where = `isa.wasm.${name}`;
    for (const rel of list(group?.sources, `"${where}.sources"`)) add(rel, list(group.flags, `"${where}.flags"`), where);
  }
  return {
    units,
    includeDirs: list(json.include_dirs, '"include_dirs"').map((d) => path.resolve(root, d)),
    defines: list(json.defines?.wasm, '"defines.wasm"'),
  };
}
