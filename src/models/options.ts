/**
 * Validation of the options of models, optimizers and clipping.
 */
import type { ClipSpec, OptimizerSpec } from '../backend/training.js';
import { OPTIMIZER_NAMES } from '../backend/training.js';
import { checkBoolean, checkOneOf } from '../validate.js';

function checkNumber(name: string, v: unknown, min: number, max: number, openMin = false): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number; got ${v === null ? 'null' : typeof v}`);
  const low = openMin ? v > min : v >= min;
  if (!Number.isFinite(v) || !low || v > max) {
    throw new RangeError(`${name} must be in ${openMin ? '(' : '['}${min}, ${max}]; got ${v}`);
  }
  return v;
}

/** A valid OptimizerSpec with every field checked (PyTorch's ranges). */
export function checkOptimizer(name: string, v: unknown): OptimizerSpec {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object such as { name: 'adam', lr: 0.001 }; got ${v === null ? 'null' : typeof v}`);
  const o = v as Record<string, unknown>;
  const kind = checkOneOf(`${name}.name`, o.name, OPTIMIZER_NAMES);
  const lr = checkNumber(`${name}.lr`, o.lr, 0, Infinity, true);
  const wd = o.weightDecay === undefined ? undefined : checkNumber(`${name}.weightDecay`, o.weightDecay, 0, Infinity);
  const eps = o.eps === undefined ? undefined : checkNumber(`${name}.eps`, o.eps, 0, Infinity);
  switch (kind) {
    case 'sgd': {
      const momentum = o.momentum === undefined ? undefined : checkNumber(`${name}.momentum`, o.momentum, 0, Infinity);
      const dampening = o.dampening === undefined ? undefined : checkNumber(`${name}.dampening`, o.dampening, 0, 1);
      const nesterov = o.nesterov === undefined ? undefined : checkBoolean(`${name}.nesterov`, o.nesterov);
      if (nesterov && (!momentum || (dampening ?? 0) !== 0)) throw new RangeError(`${name}.nesterov requires momentum > 0 and dampening 0; got momentum ${momentum ?? 0}, dampening ${dampening ?? 0}`);
      return { name: kind, lr, momentum, dampening, nesterov, weightDecay: wd };
    }
    case 'rmsprop': {
      const alpha = o.alpha === undefined ? undefined : checkNumber(`${name}.alpha`, o.alpha, 0, 1);
      return { name: kind, lr, alpha, eps, weightDecay: wd };
    }
    case 'adam':
    case 'adamw': {
      let betas: [number, number] | undefined;
      if (o.betas !== undefined) {
        if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new TypeError(`${name}.betas must be [beta1, beta2]; got ${JSON.stringify(o.betas)}`);
        betas = [checkNumber(`${name}.betas[0]`, o.betas[0], 0, 1), checkNumber(`${name}.betas[1]`, o.betas[1], 0, 1)];
        if (betas[0] >= 1 || betas[1] >= 1) throw new RangeError(`${name}.betas must each be < 1; got [${betas.join(', ')}]`);
      }
      return { name: kind, lr, betas, eps, weightDecay: wd };
    }
  }
}

/** A valid ClipSpec (maxNorm and clipValue, when given, finite and > 0). */
export function checkClip(name: string, v: unknown): ClipSpec {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object { maxNorm?, clipValue? }; got ${v === null ? 'null' : typeof v}`);
  const o = v as Record<string, unknown>;
  return {
    maxNorm: o.maxNorm === undefined ? undefined : checkNumber(`${name}.maxNorm`, o.maxNorm, 0, Infinity, true),
    clipValue: o.clipValue === undefined ? undefined : checkNumber(`${name}.clipValue`, o.clipValue, 0, Infinity, true),
  };
}

export { checkNumber };
