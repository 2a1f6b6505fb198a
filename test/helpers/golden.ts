/**
 * Reads golden test cases (shared/golden/README.md format) into flat arrays.
 *
 * The directory is RNNKIT_GOLDEN_DIR when set, else ../shared/golden next to the repo, and
 * its index.json lists the cases, so any other case set in the same format can be run by
 * pointing the variable at it. A malformed case (a missing field, a weight whose size does
 * not match the layout, an unknown weight name) throws: a case set that cannot be read
 * must fail the suite, not shrink it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellType, StackSpec } from '../../src/backend/contract.js';
import { CELL_TYPES } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function goldenDir(): string {
  return process.env.RNNKIT_GOLDEN_DIR
    ? path.resolve(process.env.RNNKIT_GOLDEN_DIR)
    : path.resolve(repoRoot, '../shared/golden');
}

export interface GoldenCase {
  id: string;
  file: string;
  spec: StackSpec;
  steps: number;
  batch: number;
  /** Every parameter, flat in paramLayout(spec) order. */
  params: Float64Array;
  x: Float64Array;
  h0: Float64Array;
  c0?: Float64Array;
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  dy: Float64Array;
  dhn: Float64Array;
  dcn?: Float64Array;
  dx: Float64Array;
  dh0: Float64Array;
  dc0?: Float64Array;
  /** Parameter gradients by name (weight_ih_l0, …). */
  paramGrads: Map<string, Float64Array>;
}

type Nested = number | Nested[];

/** Row-major flattening of nested lists, with a check on the expected element count. */
function flatten(name: string, value: unknown, expectedSize?: number): Float64Array {
  const out: number[] = [];
  const walk = (v: Nested) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'number') out.push(v);
    else throw new TypeError(`${name}: expected nested lists of numbers, found ${typeof v}`);
  };
  if (value === undefined) throw new TypeError(`${name} is missing`);
  walk(value as Nested);
  if (expectedSize !== undefined && out.length !== expectedSize) {
    throw new RangeError(`${name}: expected ${expectedSize} numbers, found ${out.length}`);
  }
  return Float64Array.from(out);
}

/** Flattens every parameter of `named` into paramLayout(spec) order, checking names and sizes. */
function flattenParams(caseId: string, spec: StackSpec, named: Record<string, unknown>): Float64Array {
  const layout = paramLayout(spec);
  const flat = new Float64Array(layout.total);
  for (const e of layout.entries) {
    flat.set(flatten(`${caseId}: ${e.name}`, named[e.name], e.size), e.offset);
  }
  const known = new Set(layout.entries.map((e) => e.name));
  const extra = Object.keys(named).filter((n) => !known.has(n));
  if (extra.length) throw new RangeError(`${caseId}: unknown parameter names ${extra.join(', ')}`);
  return flat;
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function loadGoldenCase(file: string): GoldenCase {
  const c = readJson(file);
  const id: string = c.id;
  if (!CELL_TYPES.includes(c.cell)) throw new RangeError(`${file}: unknown cell ${JSON.stringify(c.cell)}`);
  const spec: StackSpec = {
    cell: c.cell as CellType,
    inputSize: c.input_size,
    hiddenSize: c.hidden_size,
    outputSize: c.output_size ?? c.hidden_size,
    layers: c.layers,
    bidirectional: c.bidirectional,
  };
  const T: number = c.steps;
  const B: number = c.batch;
  const D = spec.bidirectional ? 2 : 1;
  const S = spec.cell === 'jordan' ? spec.outputSize : spec.hiddenSize;
  const nState = spec.layers * D * B * S;
  const nCell = spec.layers * D * B * spec.hiddenSize;
  const lstm = spec.cell === 'lstm' || spec.cell === 'lstm_peephole';
  const g = c.grads ?? {};
  const paramGrads = new Map<string, Float64Array>();
  for (const e of paramLayout(spec).entries) paramGrads.set(e.name, flatten(`${id}: grads.${e.name}`, g[e.name], e.size));
  return {
    id,
    file,
    spec,
    steps: T,
    batch: B,
    params: flattenParams(id, spec, c.weights),
    x: flatten(`${id}: x`, c.x, T * B * spec.inputSize),
    h0: flatten(`${id}: h0`, c.h0, nState),
    c0: lstm ? flatten(`${id}: c0`, c.c0, nCell) : undefined,
    y: flatten(`${id}: y`, c.y, T * B * D * S),
    hn: flatten(`${id}: hn`, c.hn, nState),
    cn: lstm ? flatten(`${id}: cn`, c.cn, nCell) : undefined,
    dy: flatten(`${id}: dy`, c.dy, T * B * D * S),
    dhn: flatten(`${id}: dhn`, c.dhn, nState),
    dcn: lstm ? flatten(`${id}: dcn`, c.dcn, nCell) : undefined,
    dx: flatten(`${id}: grads.x`, g.x, T * B * spec.inputSize),
    dh0: flatten(`${id}: grads.h0`, g.h0, nState),
    dc0: lstm ? flatten(`${id}: grads.c0`, g.c0, nCell) : undefined,
    paramGrads,
  };
}

/** Every case listed in the golden directory's index.json, in index order. */
export function loadGoldenCases(dir = goldenDir()): GoldenCase[] {
  const index = readJson(path.join(dir, 'index.json'));
  if (!Array.isArray(index.cases) || index.cases.length === 0) {
    throw new RangeError(`${dir}/index.json lists no cases`);
  }
  return index.cases.map((f: string) => loadGoldenCase(path.join(dir, f)));
}
