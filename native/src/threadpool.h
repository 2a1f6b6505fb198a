// A fixed pool of worker threads: std::threads natively, workers the host starts in the
// threaded wasm build (RNNKIT_WASM_THREADS); in the single-threaded wasm builds
// (RNNKIT_NO_THREADS) parallel_for runs inline.
//
// parallel_for(n, f) calls f(task, worker) for every task in [0, n) and returns when all
// are done. The calling thread works too (as worker 0); workers are 1..threads()-1, so
// `worker` can index per-thread scratch sized by threads(). Tasks are claimed one at a
// time (compare-and-swap on one job word); a worker that is late (descheduled on a busy
// machine) simply claims nothing, so the caller only ever waits for tasks already
// running. No allocation per call. With threads() == 1, when
// called from inside a task (nesting), or while another thread is running a
// parallel_for (two AsyncWorkers at once), every task runs inline on the caller, in
// order, as worker 0.
//
// A task's exception reaches the caller: parallel_for rethrows the first one once every
// task that started has ended (the others still run; inline runs stop at it).
//
// Workers spin briefly after a job (consecutive per-time-step calls find them awake),
// then sleep on a condition variable. They run with FTZ/DAZ set.
#ifndef RNNKIT_THREADPOOL_H
#define RNNKIT_THREADPOOL_H

#include <type_traits>

namespace rk {

// Threads used by compute calls (>= 1). The first call sizes the pool to every core.
int threads();
// n >= 1, or 0 for every core (std::thread::hardware_concurrency). Returns false for
// n < 0. Waits for a running parallel_for to finish.
bool set_threads(int n);
// The count set_threads(n) gives: n, or every core for 0.
int resolve_threads(int n);

// True inside a parallel_for task (where a nested parallel_for runs inline).
bool in_parallel_task();

using TaskFn = void (*)(void* ctx, int task, int worker);
// pinned: worker w first claims its own tasks (t % threads() == w), then helps with the
// others, so that a caller splitting the same data the same way on every call (e.g. the
// recurrent weights per time step) finds each part in that core's cache while every
// thread keeps up. At most 32 tasks are pinned (more run unpinned); inline runs ignore it.
void parallel_for_raw(int n_tasks, TaskFn fn, void* ctx, bool pinned);

template <class F>
void parallel_for(int n_tasks, F&& f, bool pinned = false) {
  using Fn = std::remove_reference_t<F>;
  parallel_for_raw(
      n_tasks, [](void* ctx, int task, int worker) { (*static_cast<Fn*>(ctx))(task, worker); },
      const_cast<void*>(static_cast<const void*>(&f)), pinned);
}

}  // namespace rk

#endif
