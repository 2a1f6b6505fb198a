#include "handle.h"

#include <string>

#include "rnnkit.h"
#include "values.h"

namespace rkaddon {

namespace {

constexpr napi_type_tag kStackTag = {0x8f3c2a6d51e04b7bULL, 0xa2d94c1e7f60b835ULL};
constexpr napi_type_tag kModelTag = {0x4d1b7e90c2a35f18ULL, 0x9e63d0a4b8f2c571ULL};

const napi_type_tag* TagOf(Kind k) { return k == Kind::Stack ? &kStackTag : &kModelTag; }
const char* NameOf(Kind k) { return k == Kind::Stack ? "stack" : "model"; }

}  // namespace

void Handle::Destroy() {
  if (kind == Kind::Stack) rk_stack_destroy(static_cast<rk_stack*>(ptr));
  else rk_model_destroy(static_cast<rk_model*>(ptr));
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
