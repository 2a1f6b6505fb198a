// The addon's export groups (each in its own file).
#ifndef RNNKIT_ADDON_EXPORTS_H
#define RNNKIT_ADDON_EXPORTS_H

#include <napi.h>

namespace rkaddon {

void ExportStack(Napi::Env env, Napi::Object exports);    // stack.cc
void ExportModel(Napi::Env env, Napi::Object exports);    // model.cc
void ExportRuntime(Napi::Env env, Napi::Object exports);  // runtime.cc
void ExportSession(Napi::Env env, Napi::Object exports);  // session.cc

}  // namespace rkaddon

#endif
