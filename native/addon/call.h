// Running one C ABI compute call, synchronously or on libuv's thread pool, for stacks and
// models alike. The call is prepared on the JS thread (inputs unwrapped, and copied for the
// asynchronous form; outputs allocated); `run` then touches no JS value.
//
// An asynchronous call owns its handle until the promise settles: the handle is busy (any
// other call on it is refused with ERR_RNNKIT_BUSY — queuing would hide a missing await)
// and the JS handle, the outputs and the copies stay alive. Every call also holds the
// compute gate, so that process-wide settings (threads, ISA) never change under it.
#ifndef RNNKIT_ADDON_CALL_H
#define RNNKIT_ADDON_CALL_H

#include <napi.h>

#include <functional>
#include <memory>

#include "handle.h"
#include "rnnkit.h"
#include "values.h"

namespace rkaddon {

struct Call {
  const char* op = "";
  std::unique_ptr<Inputs> inputs;   // keeps the copies of an asynchronous call
  std::function<rk_status()> run;   // the C ABI call
  Napi::Object result;              // resolved value (its arrays are the outputs)
  std::function<void(Handle*)> on_success;  // on the JS thread, before resolving (may be empty)
  Handle* also = nullptr;  // a second handle the call owns (busy too): a session's model
};

Napi::Value RunSync(Napi::Env env, Handle* h, Call call);
// Queues `call` on `handle` (whose JS value is `js`) and returns its promise.
Napi::Value RunAsync(Napi::Env env, Handle* h, Napi::Value js, Call call);

// Runs `change` (a process-wide setting) unless a computation is in flight; false if one is.
bool ConfigureWhenIdle(const std::function<void()>& change);

}  // namespace rkaddon

#endif
