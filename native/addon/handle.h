// The JS handle of an rk_stack or rk_model: a type-tagged External over a Handle, so that a
// foreign object is refused instead of being reinterpreted. A Handle is disposed when its
// pointer is null, busy while an asynchronous call owns it, and freed by the External's
// finalizer when JavaScript drops it without dispose().
#ifndef RNNKIT_ADDON_HANDLE_H
#define RNNKIT_ADDON_HANDLE_H

#include <napi.h>

#include <cstdint>

namespace rkaddon {

// What a handle holds; the tag says which.
enum class Kind { Stack, Model, Session };

struct Handle {
  Kind kind;
  void* ptr;  // rk_stack*, rk_model* or rk_session*; null once disposed
  bool busy = false;
  // Stacks: the shape of the last successful training forward, which backward reads (its
  // inputs are sized by it); 0 when there is none.
  int32_t kept_T = 0, kept_B = 0;
  // Sessions: the model's handle, kept alive (its JS value referenced) while the session
  // lives; the session's calls use the model (busy, disposed) through it.
  Handle* owner = nullptr;
  Napi::Reference<Napi::Value> owner_js;

  Handle(Kind k, void* p) : kind(k), ptr(p) {}
  ~Handle() { Destroy(); }
  void Destroy();
};

// A new JS handle owning `ptr`.
Napi::Value WrapHandle(Napi::Env env, Kind kind, void* ptr);

// The live, idle handle behind `v`: a TypeError if `v` is not a handle of this kind or is
// disposed, an Error with code ERR_RNNKIT_BUSY while an asynchronous call owns it.
Handle* LiveHandle(Napi::Value v, Kind kind);

}  // namespace rkaddon

#endif
