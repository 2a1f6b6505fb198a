/**
 * Named tensors ⇄ a model's flat parameters (pure; used by files and by RnnModel).
 */
import type { ModelSpec } from '../backend/contract.js';
import { modelLayout } from '../backend/layout.js';
import { SafetensorsError, tensorShapeProblem, type Tensor } from './safetensors.js';

/** The tensors must be exactly the model's parameters, with its shapes and finite values. */
export function paramsFromTensors(spec: ModelSpec, tensors: { name: string; shape: number[]; data: Float32Array }[], source: string): Float32Array {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  const layout = modelLayout(spec);
  const byName = new Map<string, { name: string; shape: number[]; data: Float32Array }>();
  for (const t of tensors) {
    // Two of one name: which one is the parameter? (the last one silently won)
    if (byName.has(t.name)) fail(`two tensors are named ${t.name}`);
    byName.set(t.name, t);
  }
  // Every missing and every unexpected name at once, as PyTorch's load_state_dict reports
  // them: a file from another program usually differs in many names, not in one.
  const missing = layout.entries.filter((e) => !byName.has(e.name)).map((e) => `${e.name} [${e.shape.join(', ')}]`);
  const expected = new Set(layout.entries.map((e) => e.name));
  const unexpected = [...byName.keys()].filter((n) => !expected.has(n));
  if (missing.length || unexpected.length) {
    const parts = [];
    if (missing.length) parts.push(missing.length === 1 ? `tensor ${missing[0]} is missing` : `${missing.length} tensors are missing: ${listed(missing)}`);
    if (unexpected.length) parts.push(unexpected.length === 1 ? `tensor ${unexpected[0]} is not a parameter of this model` : `${unexpected.length} tensors are not parameters of this model: ${listed(unexpected)}`);
    const hint = missing.length && unexpected.length
      ? ` (rnnkit's names: ${[...new Set(layout.entries.map((e) => e.name.replace(/\.[^.]*$/, '')))].join(', ')}; rename the tensors: README, PyTorch weights)`
      : '';
    fail(parts.join('; ') + hint);
  }
  const params = new Float32Array(layout.total);
  for (const e of layout.entries) {
    const t = byName.get(e.name)!;
    if (t.shape.join(',') !== e.shape.join(',')) fail(`tensor ${e.name} has shape [${t.shape.join(', ')}]; the model has [${e.shape.join(', ')}]`);
    const problem = parameterValuesProblem(t);
    if (problem) fail(`tensor ${e.name}${problem}`);
    params.set(t.data, e.offset);
  }
  return params;
}

/**
 * What keeps a parameter tensor's values from being taken as they are — data of another
 * length than its shape, or a value that is not finite — as the end of a message after the
 * tensor's name, or undefined. Model state dicts and PyTorch RNN tensors (torch.ts) alike.
 */
export function parameterValuesProblem(t: Tensor): string | undefined {
  const shape = tensorShapeProblem(t);
  if (shape) return `: ${shape}`;
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) return ` holds a non-finite value (${t.data[i]}) at index ${i}`;
  }
  return undefined;
}

/** The first few names of a list, and how many more. */
function listed(names: string[], shown = 6): string {
  return names.slice(0, shown).join(', ') + (names.length > shown ? `, … (${names.length - shown} more)` : '');
}
