#include "threadpool.h"

#include "error.h"
#include "rnnkit.h"

#if defined(RNNKIT_NO_THREADS)

namespace rk {
int threads() { return 1; }
bool set_threads(int n) { return n >= 0; }
void parallel_for_raw(int n_tasks, TaskFn fn, void* ctx, bool) {
  for (int t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
}
}  // namespace rk

#else

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "denormals.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#include <immintrin.h>
#define RK_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) && defined(__GNUC__)
#define RK_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define RK_CPU_RELAX() ((void)0)
#endif

namespace rk {
namespace {

// How long an idle worker keeps polling for the next job before sleeping. A recurrent
// forward issues one parallel GEMM per time step, every few tens of microseconds; a
// sleeping worker costs a futex wake-up (~5-50 us) per step, a spinning one only burns
// its core for this long after the last job.
constexpr auto kSpin = std::chrono::microseconds(200);

thread_local bool t_in_task = false;

class Pool {
 public:
  int threads() {
    std::lock_guard<std::mutex> run(run_mu_);
    ensure_started();
    return nthreads_;
  }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mu_);
    started_ = true;
    if (n == nthreads_ && static_cast<int>(workers_.size()) == n - 1) return;
    stop_workers();
    nthreads_ = n;
    start_workers();
  }

  void run(int n_tasks, TaskFn fn, void* ctx, bool pinned) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1 || t_in_task) return run_inline(n_tasks, fn, ctx);
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) return run_inline(n_tasks, fn, ctx);
    ensure_started();
    if (workers_.empty()) {
      run.unlock();
      return run_inline(n_tasks, fn, ctx);
    }
    fn_ = fn;
    ctx_ = ctx;
    n_tasks_ = n_tasks;
    pinned_ = pinned;
    next_.store(0, std::memory_order_relaxed);
    busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    t_in_task = true;
    work(0);
    t_in_task = false;
    // Wait for the workers to finish their last task (short: they were working too).
    for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < 4096) {
        RK_CPU_RELAX();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static void run_inline(int n_tasks, TaskFn fn, void* ctx) {
    const bool outer = t_in_task;
    t_in_task = true;
    for (int t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
    t_in_task = outer;
  }

  void ensure_started() {  // run_mu_ held
    if (started_) return;
    started_ = true;
    const unsigned hw = std::thread::hardware_concurrency();
    nthreads_ = hw == 0 ? 1 : static_cast<int>(hw);
    start_workers();
  }

  void start_workers() {  // run_mu_ held
    stop_.store(false, std::memory_order_relaxed);
    // The generation a worker starts from is read here, not in the new thread: a job
    // published before the thread gets to run must still count as new for it.
    const std::uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int w = 1; w < nthreads_; ++w) workers_.emplace_back([this, w, gen] { worker_main(w, gen); });
  }

  void stop_workers() {  // run_mu_ held
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_release);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void work(int worker) {
    const int n = n_tasks_;
    if (pinned_) {
      for (int t = worker; t < n; t += nthreads_) fn_(ctx_, t, worker);
      return;
    }
    for (int t = next_.fetch_add(1, std::memory_order_relaxed); t < n;
         t = next_.fetch_add(1, std::memory_order_relaxed)) {
      fn_(ctx_, t, worker);
    }
  }

  void worker_main(int worker, std::uint64_t seen) {
    flush_denormals_on_this_thread();
    t_in_task = true;  // a parallel_for inside a task runs inline
    for (;;) {
      // Spin for a while, then sleep until the generation changes.
      const auto until = std::chrono::steady_clock::now() + kSpin;
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen) {
        RK_CPU_RELAX();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
          break;
        }
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      work(worker);
      busy_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex run_mu_;  // one job (or resize) at a time
  bool started_ = false;
  int nthreads_ = 1;
  std::vector<std::thread> workers_;

  std::mutex mu_;  // pairs with cv_ for sleeping
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> generation_{0};

  // The current job, published before generation_ is bumped.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int n_tasks_ = 0;
  bool pinned_ = false;
  std::atomic<int> next_{0};
  std::atomic<int> busy_{0};
};

// Never destroyed: workers may still be asleep when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int threads() { return pool().threads(); }

bool set_threads(int n) {
  if (n < 0) return false;
  if (n == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    n = hw == 0 ? 1 : static_cast<int>(hw);
  }
  pool().resize(n);
  return true;
}

void parallel_for_raw(int n_tasks, TaskFn fn, void* ctx, bool pinned) {
  pool().run(n_tasks, fn, ctx, pinned);
}

}  // namespace rk

#endif  // RNNKIT_NO_THREADS

extern "C" rk_status rk_set_threads(int32_t n) {
  if (n < 0) return rk::fail(RK_EINVAL, "rk_set_threads: n must be >= 0 (0 = every core), got %d", n);
  rk::set_threads(n);
  return RK_OK;
}

extern "C" int32_t rk_get_threads(void) { return rk::threads(); }
