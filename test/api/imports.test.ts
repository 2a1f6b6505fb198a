/**
 * The import graph of src/ reads as the architecture (../shared/DESIGN.md §2): no import
 * cycles anywhere, and no compiled backend (native/, wasm/, the fused training they
 * share) reaches into the reference backend — the reference is the specification they are
 * tested against, not a library they run on. madge builds the graph from the sources.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function graph() {
  return madge(path.join(root, 'src'), { fileExtensions: ['ts'], tsConfig: path.join(root, 'tsconfig.json') });
}

describe('src/ import graph', () => {
  it('has no import cycles', async () => {
    const g = await graph();
    expect(Object.keys(g.obj()).length).toBeGreaterThan(40); // the graph really was built
    expect(g.circular()).toEqual([]);
  });

  it('no compiled backend imports the reference backend', async () => {
    const deps = (await graph()).obj();
    const compiled = Object.keys(deps).filter((f) => /^backend\/(native|wasm)\//.test(f) || f === 'backend/fused-training.ts');
    expect(compiled.length).toBeGreaterThanOrEqual(6);
    const offending: string[] = [];
    // Transitively: what a compiled backend loads must not include the reference.
    for (const start of compiled) {
      const seen = new Set<string>();
      const todo = [start];
      while (todo.length) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        if (f.startsWith('backend/reference/')) offending.push(`${start} → ${f}`);
        todo.push(...(deps[f] ?? []));
      }
    }
    expect(offending).toEqual([]);
  });
});
