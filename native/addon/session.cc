// Generation-session exports (rk_session_* of rnnkit.h): create over a model handle, state
// in and out, and one step call over a packed rk_batch (sync and Promise). The step's
// arrays come as a list indexed by rk_model_array, sized by rk_session_shapes.
//
// A session handle references its model's JS handle (so the model outlives it) and every
// call goes through the model too: a disposed model makes its sessions refuse (TypeError),
// and an asynchronous step owns both handles (ERR_RNNKIT_BUSY for any other call on the
// session or the model until it settles).
#include <memory>

#include "call.h"
#include "exports.h"
#include "handle.h"
#include "values.h"

namespace rkaddon {

namespace {

rk_session* SessionOf(Handle* h) { return static_cast<rk_session*>(h->ptr); }

// The live, idle session behind `v`, whose model is live and idle too.
Handle* LiveSession(Napi::Value v) {
  Handle* s = LiveHandle(v, Kind::Session);
  LiveHandle(s->owner_js.Value(), Kind::Model);
  return s;
}

// sessionCreate(model, B) → session handle.
Napi::Value Create(const Napi::CallbackInfo& info) {
  Handle* m = LiveHandle(info[0], Kind::Model);
  const int32_t B = RequireInt32(info[1], "batch", 1);
  rk_session* s = nullptr;
  Check(info.Env(), "sessionCreate", rk_session_create(static_cast<rk_model*>(m->ptr), B, &s));
  Napi::Value js = WrapHandle(info.Env(), Kind::Session, s);
  Handle* h = js.As<Napi::External<Handle>>().Data();
  h->owner = m;
  h->owner_js = Napi::Persistent(info[0]);
  return js;
}

// sessionSetState(session, h?, c?): Float32Arrays of the state's sizes; absent = zeros.
Napi::Value SetState(const Napi::CallbackInfo& info) {
  Handle* h = LiveSession(info[0]);
  int64_t n[RK_ARRAY_COUNT];
  Check(info.Env(), "sessionShapes", rk_session_shapes(SessionOf(h), 1, 0, n));
  Inputs in(false);
  const float* ph = in.Get<float>(info[1], "h", n[RK_ARRAY_H]);
  const float* pc = in.Get<float>(info[2], "c", n[RK_ARRAY_C]);
  Check(info.Env(), "sessionSetState", rk_session_set_state(SessionOf(h), ph, pc));
  return info.Env().Undefined();
}

// sessionGetState(session) → { h, c? }
Napi::Value GetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle* h = LiveSession(info[0]);
  int64_t n[RK_ARRAY_COUNT];
  Check(env, "sessionShapes", rk_session_shapes(SessionOf(h), 1, 0, n));
  Napi::Float32Array ph = Output(env, n[RK_ARRAY_H]), pc = Output(env, n[RK_ARRAY_C]);
  Check(env, "sessionGetState",
        rk_session_get_state(SessionOf(h), ph.IsEmpty() ? nullptr : ph.Data(), pc.IsEmpty() ? nullptr : pc.Data()));
  Napi::Object out = Napi::Object::New(env);
  out.Set("h", ph);
  if (!pc.IsEmpty()) out.Set("c", pc);
  return out;
}

// step(session, batch bytes, arrays) → { logits: Float32Array [B][C] }
Call Prepare(const Napi::CallbackInfo& info, Handle* h, bool async) {
  Napi::Env env = info.Env();
  auto batch = std::make_shared<rk_batch>(ReadStruct<rk_batch>(info[1], "batch"));
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "arrays must be an Array; got " + Describe(info[2]));
  Napi::Array arrays = info[2].As<Napi::Array>();
  int64_t n[RK_ARRAY_COUNT];
  Check(env, "sessionShapes", rk_session_shapes(SessionOf(h), batch->T, batch->source_T, n));
  Call c;
  c.op = "sessionStep";
  c.inputs = std::make_unique<Inputs>(async);
  // A step reads tokens / x, lengths, condition and the source; C ignores the other arrays
  // (the state is the session's own).
  BindBatchArrays(*batch, arrays, n, *c.inputs);
  Napi::Float32Array logits = Output(env, n[RK_ARRAY_OUTPUTS]);
  c.result = Napi::Object::New(env);
  c.result.Set("logits", logits);
  rk_session* s = SessionOf(h);
  float* out = logits.Data();
  c.run = [=] { return rk_session_step(s, batch.get(), out); };
  c.also = h->owner;
  return c;
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  LiveHandle(info[0], Kind::Session)->Destroy();  // the model may be disposed already
  return info.Env().Undefined();
}

}  // namespace

void ExportSession(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("sessionCreate", Create);
  fn("sessionSetState", SetState);
  fn("sessionGetState", GetState);
  fn("sessionDispose", Dispose);
  fn("sessionStep", [](const Napi::CallbackInfo& i) {
    Handle* h = LiveSession(i[0]);
    return RunAsync(i.Env(), h, i[0], Prepare(i, h, true));
  });
  fn("sessionStepSync", [](const Napi::CallbackInfo& i) {
    Handle* h = LiveSession(i[0]);
    return RunSync(i.Env(), h, Prepare(i, h, false));
  });
}

}  // namespace rkaddon
