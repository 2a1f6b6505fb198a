// Per-instance state of the addon. The addon is context-aware: the main thread and every
// worker_thread that loads it get their own instance (own class constructor), so nothing
// here may be a process-wide static.
#ifndef RNNKIT_ADDON_INSTANCE_DATA_H
#define RNNKIT_ADDON_INSTANCE_DATA_H

#include <napi.h>

namespace rkaddon {

struct InstanceData {
  Napi::FunctionReference stack_constructor;
};

inline InstanceData& Instance(Napi::Env env) { return *env.GetInstanceData<InstanceData>(); }

}  // namespace rkaddon

#endif
