#include "compute_gate.h"

#include <mutex>

namespace rkaddon {

namespace {
std::mutex g_mutex;
long g_in_flight = 0;  // guarded by g_mutex
}  // namespace

void GateEnter() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_in_flight++;
}

void GateLeave() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_in_flight--;
}

bool GateConfigure(const std::function<void()>& change) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_in_flight != 0) return false;
  change();
  return true;
}

}  // namespace rkaddon
