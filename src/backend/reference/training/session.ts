/**
 * Generation sessions on the reference backend, in float64: the specification of
 * rk_session_* (native/include/rnnkit.h, native/src/session.cc).
 *
 * A session keeps the recurrent state of B samples ([L·D][B][S], and [L·D][B][H] for LSTM
 * cells) and each sample's last logits [B][C]. A step is the model's forward (the same
 * function `evaluate` runs) with h0 / c0 = the state; its hn / cn become the new state —
 * kept in float64, never rounded between steps. Each sample's logits are the head outputs
 * at its last valid step (lengths[b] − 1); a sample of length 0 keeps its state and its
 * logits (zeros before the first step). With a source (seq2seq) the encoder runs first,
 * from the session's state.
 */
import type { ModelHandle, ModelSpec, SessionHandle, SessionInputs, SessionState, TrainBatch } from '../../contract.js';
import { directions, hasCellState, stateSize } from '../../layout.js';

/** What a session reads of its ReferenceModel (index.ts; not imported, to keep the import graph acyclic). */
type SessionModel = ModelHandle & { readonly spec: ModelSpec; readonly disposed: boolean };

/** The model forward a step runs (ReferenceTraining.forward64). */
type Forward64 = (model: ModelHandle, batch: TrainBatch) => { hn: Float64Array; cn?: Float64Array; outputs: Float64Array };

export class ReferenceSession implements SessionHandle {
  readonly backend = 'reference' as const;
  disposed = false;
  h: Float64Array;
  c: Float64Array | undefined;
  /** [B][C] each sample's last logits. */
  readonly logits: Float64Array;
  constructor(
    readonly model: SessionModel,
    readonly batch: number,
  ) {
    const stack = model.spec.stack;
    const per = stack.layers * directions(stack) * batch;
    this.h = new Float64Array(per * stateSize(stack));
    this.c = hasCellState(stack.cell) ? new Float64Array(per * stack.hiddenSize) : undefined;
    this.logits = new Float64Array(batch * model.spec.outputs);
  }
}

/** The live session behind `session` (made by the reference backend, it and its model not disposed). */
export function ownSession(session: SessionHandle, disposing = false): ReferenceSession {
  if (!(session instanceof ReferenceSession)) throw new TypeError('session must be a handle created by the reference training backend');
  if (session.disposed) throw new Error('session has been disposed');
  if (!disposing && session.model.disposed) throw new Error("the session's model has been disposed");
  return session;
}

/** One step call: `inputs.steps` steps from the session's state; returns the logits [B][C]. */
export function sessionStep(forward64: Forward64, s: ReferenceSession, inputs: SessionInputs): Float32Array {
  const B = s.batch;
  if (inputs.batch !== B) throw new RangeError(`inputs.batch is ${inputs.batch}; the session has batch ${B}`);
  const T = inputs.steps;
  // forward64 reads h0 / c0 with Float64Array.from: the float64 state goes in unrounded.
  const pass = forward64(s.model, {
    steps: T, batch: B, tokens: inputs.tokens, x: inputs.x, condition: inputs.condition, lengths: inputs.lengths, source: inputs.source,
    h0: s.h as unknown as Float32Array, c0: s.c as unknown as Float32Array | undefined,
  });
  const C = s.model.spec.outputs;
  const rows = pass.outputs.length / C; // T·B (readout 'steps') or B ('final_state')
  for (let b = 0; b < B; b++) {
    const len = inputs.lengths ? inputs.lengths[b] : T;
    if (len === 0) continue;
    const row = rows === B ? b : (len - 1) * B + b;
    s.logits.set(pass.outputs.subarray(row * C, (row + 1) * C), b * C);
  }
  s.h = Float64Array.from(pass.hn);
  if (s.c && pass.cn) s.c = Float64Array.from(pass.cn);
  return Float32Array.from(s.logits);
}

export function setSessionState(s: ReferenceSession, state: Partial<SessionState>): void {
  if (state.h && state.h.length !== s.h.length) throw new RangeError(`h must have ${s.h.length} elements; got ${state.h.length}`);
  if (s.c && state.c && state.c.length !== s.c.length) throw new RangeError(`c must have ${s.c.length} elements; got ${state.c.length}`);
  s.h = state.h ? Float64Array.from(state.h) : new Float64Array(s.h.length);
  if (s.c) s.c = state.c ? Float64Array.from(state.c) : new Float64Array(s.c.length);
}

export function getSessionState(s: ReferenceSession): SessionState {
  return { h: Float32Array.from(s.h), ...(s.c ? { c: Float32Array.from(s.c) } : {}) };
}
