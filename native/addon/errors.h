// JS errors made from C ABI failures and from the addon's own state checks.
#ifndef RNNKIT_ADDON_ERRORS_H
#define RNNKIT_ADDON_ERRORS_H

#include <napi.h>

#include <string>

#include "rnnkit.h"

namespace rkaddon {

// "RK_EINVAL" etc.
const char* StatusName(rk_status s);

// An Error "rnnkit <op> failed (RK_EINVAL): <message>" with .code = "RK_EINVAL". The
// message must be read with rk_last_error() on the thread that made the failing call.
Napi::Error StatusError(Napi::Env env, const char* op, rk_status s, const std::string& message);

// An Error with .code = "ERR_RNNKIT_BUSY": an asynchronous call still owns the stack.
Napi::Error BusyError(Napi::Env env);

}  // namespace rkaddon

#endif
