// Process-wide count of compute calls in flight (sync or async, any stack, any worker
// thread). rk_set_threads and rk_force_isa change process-wide state of the C layer
// (the thread pool, the dispatch table), so they are refused while any computation runs:
// the check and the change happen under one mutex that every computation passes on entry.
#ifndef RNNKIT_ADDON_COMPUTE_GATE_H
#define RNNKIT_ADDON_COMPUTE_GATE_H

#include <functional>

namespace rkaddon {

void GateEnter();
void GateLeave();

// Runs `change` if no computation is in flight and returns true; false otherwise.
bool GateConfigure(const std::function<void()>& change);

// Enter on construction, leave on destruction (for synchronous calls).
class GateScope {
 public:
  GateScope() { GateEnter(); }
  ~GateScope() { GateLeave(); }
  GateScope(const GateScope&) = delete;
  GateScope& operator=(const GateScope&) = delete;
};

}  // namespace rkaddon

#endif
