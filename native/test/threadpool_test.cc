// Thread pool regression test: alternates unpinned and pinned 2-task jobs on 2 threads;
// every task must run exactly once per job, on its own job's context. Before 526b6a0 a
// late worker could read the next job's pinned flag with the previous job's state word,
// run a task that did not exist (wrong context: a crash) and push the done counter past
// n (the caller then waited forever). That needs a worker preempted at the wrong moment,
// so a clean run is evidence, not proof; ctest's TIMEOUT turns a hang into a failure.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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

  // A task that throws: the exception reaches the caller after every other task has run
  // (none is lost or run twice, whichever thread threw), and the pool works on afterwards;
  // inline (1 thread) too, without leaving the caller marked as inside a task.
  const long throwing = iters / 100 + 10;
  for (int threads : {2, 1}) {
    rk::set_threads(threads);
    for (long i = 0; i < throwing; ++i) {
      std::atomic<int> hits[4] = {0, 0, 0, 0};
      const int thrower = static_cast<int>(i % 4);
      bool caught = false;
      try {
        rk::parallel_for(
            4,
            [&](int t, int) {
              hits[t].fetch_add(1);
              if (t == thrower) throw std::runtime_error("task failed");
            },
            (i & 1) != 0);
      } catch (const std::runtime_error&) {
        caught = true;
      }
      const bool inline_run = threads == 1;
      for (int t = 0; t < 4; ++t) {
        const int want = inline_run && t > thrower ? 0 : 1;
        if (hits[t] != want) {
          std::printf("%d threads, iteration %ld: task %d ran %d times (want %d; task %d threw)\n", threads, i, t,
                      hits[t].load(), want, thrower);
          return 1;
        }
      }
      if (!caught || rk::in_parallel_task()) {
        std::printf("%d threads, iteration %ld: exception %s, in_parallel_task %d\n", threads, i,
                    caught ? "caught" : "lost", rk::in_parallel_task());
        return 1;
      }
    }
    std::atomic<int> sum{0};
    rk::parallel_for(8, [&](int t, int) { sum.fetch_add(t); });
    if (sum != 28) {
      std::printf("%d threads: a job after the throwing ones summed %d (want 28)\n", threads, sum.load());
      return 1;
    }
  }
  std::printf("threadpool_test: %ld jobs with a throwing task ok (2 threads and inline)\n", throwing);
  return 0;
}
