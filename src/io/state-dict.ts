/**
 * Named tensors ⇄ a model's flat parameters (pure; used by files and by RnnModel).
 */
import type { ModelSpec } from '../backend/contract.js';
import { modelLayout } from '../backend/layout.js';
import { SafetensorsError } from './safetensors.js';

/** The tensors must be exactly the model's parameters, with its shapes and finite values. */
export function paramsFromTensors(spec: ModelSpec, tensors: { name: string; shape: number[]; data: Float32Array }[], source: string): Float32Array {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  const layout = modelLayout(spec);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const params = new Float32Array(layout.total);
  for (const e of layout.entries) {
    const t = byName.get(e.name);
    if (!t) fail(`tensor ${e.name} [${e.shape.join(', ')}] is missing`);
    if (t!.shape.join(',') !== e.shape.join(',')) fail(`tensor ${e.name} has shape [${t!.shape.join(', ')}]; the config expects [${e.shape.join(', ')}]`);
    for (let i = 0; i < t!.data.length; i++) {
      if (!Number.isFinite(t!.data[i])) fail(`tensor ${e.name} holds a non-finite value (${t!.data[i]}) at index ${i}`);
    }
    params.set(t!.data, e.offset);
    byName.delete(e.name);
  }
  if (byName.size > 0) fail(`tensor ${[...byName.keys()][0]} is not a parameter of the model in the config`);
  return params;
}
