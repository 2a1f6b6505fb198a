// The JS handle of one rk_stack: an ObjectWrap with a type tag (so a foreign wrapped
// object is refused, never reinterpreted), a disposed state (stack == nullptr) and a busy
// flag set while an asynchronous call runs on it. The finalizer frees the stack if JS
// never called dispose().
#ifndef RNNKIT_ADDON_STACK_HANDLE_H
#define RNNKIT_ADDON_STACK_HANDLE_H

#include <napi.h>

#include <cstdint>

#include "rnnkit.h"

namespace rkaddon {

// Array sizes of a stack, from its spec (see the shapes comment in rnnkit.h).
struct StackDims {
  int64_t I;   // input width of layer 0
  int64_t H;   // hidden width
  int64_t S;   // state width: O for jordan, H otherwise
  int64_t LD;  // layers × directions
  int64_t D;   // directions
  bool has_c;  // LSTM cells carry a cell state c
};

class StackHandle : public Napi::ObjectWrap<StackHandle> {
 public:
  // Defines the class for this addon instance (once per env: main thread and each worker).
  static Napi::Function Define(Napi::Env env);

  // create(spec): validates the spec, calls rk_stack_create, returns a tagged handle.
  static Napi::Value Create(const Napi::CallbackInfo& info);

  // The live, idle stack behind `v`, or a TypeError (not a handle / disposed) or an
  // Error with code ERR_RNNKIT_BUSY (an asynchronous call is still running on it).
  static StackHandle* Live(Napi::Value v, const char* what);

  explicit StackHandle(const Napi::CallbackInfo& info);
  ~StackHandle() override;

  rk_stack* stack() const { return stack_; }
  const StackDims& dims() const { return dims_; }

  // Shape of the last successful training forward; steps == 0 when there is none.
  int32_t trained_steps = 0;
  int32_t trained_batch = 0;

  // Set while an AsyncWorker owns the stack; every other call is refused meanwhile.
  bool busy = false;

  // Frees the stack now (dispose()); later use of the handle is a TypeError.
  void Destroy();

 private:
  rk_stack* stack_ = nullptr;
  StackDims dims_{};
};

}  // namespace rkaddon

#endif
