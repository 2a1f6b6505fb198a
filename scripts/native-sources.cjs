#!/usr/bin/env node
/*
 * Prints parts of native/sources.json (the ONE list of C++ sources) for binding.gyp's
 * command expansions, e.g. `<!@(node scripts/native-sources.cjs base x64 avx2,avx512)`.
 * Paths are relative to the repository root, which is binding.gyp's directory.
 * CMakeLists.txt reads the same file itself with string(JSON ...).
 *
 *   include_dirs                      include directories
 *   base <arch> <known groups>        common + isa.all sources; FAILS if sources.json has an
 *                                     ISA group for <arch> that binding.gyp does not declare
 *                                     (so a new group can never be silently left out)
 *   sources <arch> <group>            the sources of one ISA group
 *   flags <arch> <group>              its compiler flags (gcc/clang); msvc_flags: for MSVC
 *   defines <target>                  extra defines for a target ("native", "wasm")
 *   addon                             the addon's own sources: every .cc in native/addon/
 *
 * CommonJS (.cjs) on purpose: the package is "type": "module" and gyp runs this with plain node.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const file = path.join(root, 'native', 'sources.json');

function fail(msg) {
  process.stderr.write(`native-sources: ${msg}\n`);
  process.exit(1);
}

function load() {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  return json;
}

function list(value, where) {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(`${where} must be a list of strings`);
  return value;
}

function groupsOf(json, arch) {
  const g = json.isa && json.isa[arch];
  if (g === undefined) return {};
  if (g === null || typeof g !== 'object' || Array.isArray(g)) fail(`isa.${arch} must be an object of groups`);
  return g;
}

function group(json, arch, name) {
  const g = groupsOf(json, arch)[name];
  // A group named in binding.gyp but absent for this arch compiles nothing.
  if (g === undefined) return { sources: [], flags: [], msvc_flags: [] };
  return {
    sources: list(g.sources, `isa.${arch}.${name}.sources`),
    flags: list(g.flags, `isa.${arch}.${name}.flags`),
    msvc_flags: list(g.msvc_flags, `isa.${arch}.${name}.msvc_flags`),
  };
}

function checkExists(paths) {
  for (const p of paths) {
    if (!fs.existsSync(path.join(root, p))) fail(`native/sources.json lists ${p}, which does not exist`);
  }
  return paths;
}

const [cmd, a, b] = process.argv.slice(2);
const json = load();
let out;
switch (cmd) {
  case 'include_dirs':
    out = list(json.include_dirs, 'include_dirs');
    break;
  case 'base': {
    const known = (b || '').split(',').filter(Boolean);
    const unknown = Object.keys(groupsOf(json, a)).filter((g) => !known.includes(g));
    if (unknown.length) {
      fail(`native/sources.json has ISA group(s) ${unknown.join(', ')} for ${a} that binding.gyp does not build; add a target for each`);
    }
    out = checkExists([...list(json.common, 'common'), ...list(json.isa && json.isa.all, 'isa.all')]);
    break;
  }
  case 'sources':
    out = checkExists(group(json, a, b).sources);
    break;
  case 'flags':
    out = group(json, a, b).flags;
    break;
  case 'msvc_flags':
    out = group(json, a, b).msvc_flags;
    break;
  case 'addon':
    out = fs
      .readdirSync(path.join(root, 'native', 'addon'))
      .filter((f) => f.endsWith('.cc'))
      .sort()
      .map((f) => `native/addon/${f}`);
    break;
  case 'defines':
    out = list(json.defines && json.defines[a], `defines.${a}`);
    break;
  default:
    fail(`unknown command ${JSON.stringify(cmd)}; see the header of ${__filename}`);
}
process.stdout.write(out.join(' ') + '\n');
