#include "handle.h"

#include <random>
#include <string>

#include "rnnkit.h"
#include "values.h"

namespace rkaddon {

namespace {

// Drawn once per loaded copy of the addon: two different rnnkit builds loaded in one
// process (a prebuild and RNNKIT_NATIVE_PATH, say) refuse each other's handles instead of
// reading them as their own. Every worker_thread shares the copy, and so the tags.
struct Tags {
  napi_type_tag stack, model, session;
  Tags() {
    std::random_device rd;
    auto word = [&] { return (static_cast<uint64_t>(rd()) << 32) ^ rd(); };
    stack = {word(), word()};
    model = {word(), word()};
    session = {word(), word()};
  }
};

const napi_type_tag* TagOf(Kind k) {
  static const Tags tags;  // thread-safe initialisation
  return k == Kind::Stack ? &tags.stack : k == Kind::Model ? &tags.model : &tags.session;
}
const char* NameOf(Kind k) { return k == Kind::Stack ? "stack" : k == Kind::Model ? "model" : "session"; }

}  // namespace

void Handle::Destroy() {
  if (kind == Kind::Stack) rk_stack_destroy(static_cast<rk_stack*>(ptr));
  else if (kind == Kind::Model) rk_model_destroy(static_cast<rk_model*>(ptr));
  else rk_session_destroy(static_cast<rk_session*>(ptr));  // touches only the session's memory
  ptr = nullptr;
}

Napi::Value WrapHandle(Napi::Env env, Kind kind, void* ptr) {
  auto* h = new Handle(kind, ptr);
  auto ext = Napi::External<Handle>::New(env, h, [](Napi::Env, Handle* p) { delete p; });
  ext.TypeTag(TagOf(kind));
  return ext;
}

Handle* LiveHandle(Napi::Value v, Kind kind) {
  Napi::Env env = v.Env();
  const std::string what = NameOf(kind);
  if (!v.IsExternal() || !v.As<Napi::External<Handle>>().CheckTypeTag(TagOf(kind))) {
    throw Napi::TypeError::New(env, what + " must be a " + what + " handle made by this addon; got " + Describe(v));
  }
  Handle* h = v.As<Napi::External<Handle>>().Data();
  if (h->ptr == nullptr) throw Napi::TypeError::New(env, what + " handle is disposed; it cannot be used any more");
  if (h->busy) {
    Napi::Error e = Napi::Error::New(env, what + " is busy: an asynchronous call is still running on it; await it first");
    e.Set("code", Napi::String::New(env, "ERR_RNNKIT_BUSY"));
    throw e;
  }
  return h;
}

}  // namespace rkaddon
