/**
 * The module graph of the browser entry as tsc emits it: every file reached from web.js by
 * relative static or dynamic imports. A bundler follows dynamic imports too, so any Node
 * built-in or bare package name anywhere in this graph breaks browser bundles; the error
 * names the import chain that reaches it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g;

/**
 * Modules the package's "browser" field maps to false (bundlers replace them with an empty
 * module), as absolute paths under `distDir` — the directory tsc wrote `dist/` into.
 */
export function browserExcluded(root, distDir) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const map = pkg.browser && typeof pkg.browser === 'object' ? pkg.browser : {};
  return new Set(
    Object.entries(map)
      .filter(([key, value]) => value === false && key.startsWith('./dist/'))
      .map(([key]) => path.join(distDir, key.slice('./dist/'.length))),
  );
}

/**
 * { files, foreign }: absolute paths of entry and every module it reaches, and each
 * non-relative import found (`chain` names the import path that reaches it). Modules in
 * `excluded` (see browserExcluded) are not followed.
 */
export function browserModuleGraph(entry, excluded = new Set()) {
  const parent = new Map([[entry, null]]);
  const foreign = [];
  const queue = [entry];
  const chain = (file) => {
    const names = [];
    for (let f = file; f; f = parent.get(f)) names.unshift(path.relative(path.dirname(entry), f));
    return names.join(' → ');
  };
  while (queue.length) {
    const file = queue.shift();
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[2];
      if (!spec.startsWith('.')) {
        foreign.push({ spec, chain: chain(file) });
        continue;
      }
      const target = path.resolve(path.dirname(file), spec);
      if (!parent.has(target) && !excluded.has(target)) {
        parent.set(target, file);
        queue.push(target);
      }
    }
  }
  return { files: [...parent.keys()], foreign };
}
