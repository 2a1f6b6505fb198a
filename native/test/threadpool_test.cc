// Thread pool regression test: alternates unpinned and pinned 2-task jobs on 2 threads;
// every task must run exactly once per job, on its own job's context. Before 526b6a0 a
// late worker could read the next job's pinned flag with the previous job's state word,
// run a task that did not exist (wrong context: a crash) and push the done counter past
// n (the caller then waited forever). That needs a worker preempted at the wrong moment,
// so a clean run is evidence, not proof; ctest's TIMEOUT turns a hang into a failure.
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "threadpool.h"

int main(int argc, char** argv) {
  rk::set_threads(2);
  const long iters = argc > 1 ? std::atol(argv[1]) : 2000000;
  for (long i = 0; i < iters; ++i) {
    std::atomic<int> hits[2] = {0, 0};
    const long tag = i;
    const bool pinned = (i & 1) != 0;
    rk::parallel_for(
        2,
        [&](int t, int) {
          if (tag != i || t < 0 || t > 1) {
            std::printf("iteration %ld: task %d ran with a stale context\n", i, t);
            std::abort();
          }
          hits[t].fetch_add(1);
          for (volatile int k = 0; k < 50; ++k) {
          }
        },
        pinned);
    if (hits[0] != 1 || hits[1] != 1) {
      std::printf("iteration %ld: tasks ran %d and %d times (want 1 and 1)\n", i, hits[0].load(), hits[1].load());
      return 1;
    }
  }
  std::printf("threadpool_test: %ld alternating pinned/unpinned jobs ok\n", iters);
  return 0;
}
