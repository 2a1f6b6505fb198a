/**
 * The addon's session exports (native/addon/session.cc) at the binding level: a session
 * handle is its own type; it keeps its model's handle alive; a disposed model makes it
 * refuse (TypeError); an asynchronous step owns the session AND the model
 * (ERR_RNNKIT_BUSY); inputs of an asynchronous step are copied; sizes come from C.
 */
import { describe, expect, it } from 'vitest';
import { addon, caught, collectGarbage, createModel, packBatch, rejection, TOKEN_MODEL } from './native-helpers.js';

const a = () => addon();
const step = (_s: object, tokens: Int32Array, steps = 1) => packBatch({ steps, batch: 1, tokens });

describe('addon sessions', () => {
  it('sessionStep equals modelRunSync evaluate; the state stays in the session', () => {
    const m = createModel(TOKEN_MODEL);
    a().modelSetParams(m, Float32Array.from({ length: a().modelParamCount(m) }, (_, i) => Math.sin(i)));
    const s = a().sessionCreate(m, 1);
    const tokens = Int32Array.of(1, 2, 3);
    const ev = a().modelRunSync(m, 2, ...packBatch({ steps: 3, batch: 1, tokens }));
    const first = a().sessionStepSync(s, ...step(s, tokens.subarray(0, 2), 2)).logits;
    expect(first).toHaveLength(TOKEN_MODEL.outputs);
    const second = a().sessionStepSync(s, ...step(s, tokens.subarray(2, 3))).logits;
    const want = ev.outputs!.subarray(2 * TOKEN_MODEL.outputs);
    second.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5));
    const st = a().sessionGetState(s);
    st.h.forEach((v, i) => expect(Math.abs(v - ev.hn![i])).toBeLessThan(1e-5));
    expect(st.c).toHaveLength(ev.cn!.length);
    a().sessionSetState(s); // zeros
    expect(Array.from(a().sessionGetState(s).h)).toEqual(new Array(st.h.length).fill(0));
    expect(caught(() => a().sessionSetState(s, new Float32Array(1))).message).toMatch(/h must have/);
    a().sessionDispose(s);
    a().modelDispose(m);
  });

  it('handle types are not interchangeable; disposed handles refuse', () => {
    const m = createModel(TOKEN_MODEL);
    const s = a().sessionCreate(m, 2);
    expect(caught(() => a().modelParamCount(s)).name).toBe('TypeError');
    expect(caught(() => a().sessionGetState(m)).message).toMatch(/session must be a session handle/);
    expect(caught(() => a().sessionStepSync(s, ...packBatch({ steps: 1, batch: 2, tokens: Int32Array.of(1) }))).message).toMatch(/tokens must have 2/);
    const bad = caught(() => a().sessionStepSync(s, ...packBatch({ steps: 1, batch: 2, tokens: Int32Array.of(1, 99) })));
    expect(bad.code).toBe('RK_EINVAL');
    a().modelDispose(m);
    expect(caught(() => a().sessionStepSync(s, ...packBatch({ steps: 1, batch: 2, tokens: Int32Array.of(1, 2) }))).message).toMatch(/model handle is disposed/);
    a().sessionDispose(s); // allowed after the model's disposal
    expect(caught(() => a().sessionDispose(s)).message).toMatch(/session handle is disposed/);
  });

  it('an asynchronous step owns the session and the model, and copies its inputs', async () => {
    const m = createModel(TOKEN_MODEL);
    const s = a().sessionCreate(m, 1);
    const tokens = Int32Array.of(1, 2, 3, 4);
    const p = a().sessionStep(s, ...packBatch({ steps: 4, batch: 1, tokens }));
    tokens.fill(99); // copied before the call was queued
    expect(caught(() => a().sessionGetState(s)).code).toBe('ERR_RNNKIT_BUSY');
    expect(caught(() => a().modelGetParams(m)).code).toBe('ERR_RNNKIT_BUSY');
    expect(caught(() => a().modelDispose(m)).code).toBe('ERR_RNNKIT_BUSY');
    expect(caught(() => a().sessionDispose(s)).code).toBe('ERR_RNNKIT_BUSY');
    expect((await p).logits).toHaveLength(TOKEN_MODEL.outputs);
    const again = await rejection(a().sessionStep(s, ...packBatch({ steps: 1, batch: 1, tokens: Int32Array.of(7) })));
    expect(again.code).toBe('RK_EINVAL'); // id 7 ≥ vocab 7: C refuses
    a().modelGetParams(m); // idle again
    a().sessionDispose(s);
    a().modelDispose(m);
  });

  it('a session keeps its model alive when the model handle is dropped', () => {
    let s: object | undefined = (() => {
      const m = createModel(TOKEN_MODEL);
      return a().sessionCreate(m, 1);
    })();
    collectGarbage();
    expect(a().sessionStepSync(s, ...packBatch({ steps: 1, batch: 1, tokens: Int32Array.of(1) })).logits).toHaveLength(TOKEN_MODEL.outputs);
    s = undefined;
    collectGarbage();
  });
});
