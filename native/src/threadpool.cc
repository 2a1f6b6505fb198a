#include "threadpool.h"

#include "error.h"
#include "rnnkit.h"

#if defined(RNNKIT_NO_THREADS)

namespace rk {
int threads() { return 1; }
int resolve_threads(int) { return 1; }
bool set_threads(int n) { return n >= 0; }
bool in_parallel_task() { return false; }
void parallel_for_raw(int n_tasks, TaskFn fn, void* ctx, bool) {
  for (int t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
}
}  // namespace rk

#else

#include <algorithm>
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
constexpr auto kSpin = std::chrono::microseconds(100);

thread_local bool t_in_task = false;

// The current job is one atomic word, so that claiming a task and checking that the job
// is still the one a worker woke up for are a single compare-and-swap:
//   bits 45..63  generation (job number, wraps)
//   bit  44      pinned (how to read the state bits)
//   bits 32..43  number of tasks n (<= kMaxTasks; larger loops run as several jobs)
//   bits  0..31  unpinned: index of the next unclaimed task
//                pinned:   bitmask of claimed tasks (n <= 32)
// A worker that wakes late, after the caller has run every task itself, finds the
// generation moved on or nothing left to claim and touches nothing: the caller never
// waits for a worker that has not started a task (a descheduled worker on a busy
// machine costs nothing), only for tasks in progress.
// The pinned flag lives in the word, not beside it: a worker still claiming on a finished
// unpinned job must not read the next job's flag and take the old final index (n) for a
// bitmask with free bits -- its CAS on the old word would succeed while the caller is
// setting up the next job, and it would run a task that does not exist (a stale context,
// an extra done_ count the caller then waits for forever).
constexpr std::uint64_t kMaxTasks = 4095;
constexpr int kMaxPinned = 32;

constexpr std::uint64_t kPinnedBit = std::uint64_t{1} << 44;

std::uint64_t job_gen(std::uint64_t w) { return w >> 45; }
bool job_pinned(std::uint64_t w) { return (w & kPinnedBit) != 0; }
int job_n(std::uint64_t w) { return static_cast<int>((w >> 32) & kMaxTasks); }
std::uint32_t job_state(std::uint64_t w) { return static_cast<std::uint32_t>(w); }
std::uint64_t job_word(std::uint64_t gen, bool pinned, int n, std::uint32_t state) {
  return ((gen & 0x7FFFF) << 45) | (pinned ? kPinnedBit : 0) | (static_cast<std::uint64_t>(n) << 32) | state;
}

class Pool {
 public:
  // Lock-free once started: every GEMM asks, and must not wait for another thread's
  // running job (which holds run_mu_).
  int threads() {
    int n = published_threads_.load(std::memory_order_acquire);
    if (n > 0) return n;
    std::lock_guard<std::mutex> run(run_mu_);
    ensure_started();
    return nthreads_;
  }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mu_);
    started_ = true;
    if (n == nthreads_ && static_cast<int>(workers_.size()) == n - 1) {
      published_threads_.store(n, std::memory_order_release);
      return;
    }
    stop_workers();
    nthreads_ = n;
    start_workers();
    published_threads_.store(n, std::memory_order_release);
  }

  void run(int n_tasks, TaskFn fn, void* ctx, bool pinned) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1 || t_in_task) return run_inline(0, n_tasks, fn, ctx);
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) return run_inline(0, n_tasks, fn, ctx);
    ensure_started();
    if (workers_.empty()) {
      run.unlock();
      return run_inline(0, n_tasks, fn, ctx);
    }
    if (n_tasks > kMaxPinned) pinned = false;
    for (int first = 0; first < n_tasks; first += static_cast<int>(kMaxTasks)) {
      const int n = std::min<int>(static_cast<int>(kMaxTasks), n_tasks - first);
      run_job(first, n, fn, ctx, pinned);
    }
  }

 private:
  static void run_inline(int first, int n_tasks, TaskFn fn, void* ctx) {
    const bool outer = t_in_task;
    t_in_task = true;
    for (int t = first; t < n_tasks; ++t) fn(ctx, t, 0);
    t_in_task = outer;
  }

  void run_job(int first, int n, TaskFn fn, void* ctx, bool pinned) {  // run_mu_ held
    fn_ = fn;
    ctx_ = ctx;
    first_ = first;
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t word = job_word(++gen_, pinned, n, 0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_.store(word, std::memory_order_release);
    }
    cv_.notify_all();
    t_in_task = true;
    work(0, word);
    t_in_task = false;
    // Wait for tasks other threads are still running (short: they started before we
    // ran out of tasks to claim).
    for (int spins = 0; done_.load(std::memory_order_acquire) != n; ++spins) {
      if (spins < 4096) {
        RK_CPU_RELAX();
      } else {
        std::this_thread::yield();
      }
    }
  }

  void ensure_started() {  // run_mu_ held
    if (started_) return;
    started_ = true;
    const unsigned hw = std::thread::hardware_concurrency();
    nthreads_ = hw == 0 ? 1 : static_cast<int>(hw);
    start_workers();
    published_threads_.store(nthreads_, std::memory_order_release);
  }

  void start_workers() {  // run_mu_ held
    stop_.store(false, std::memory_order_relaxed);
    // The generation a worker starts from is read here, not in the new thread: a job
    // published before the thread gets to run must still count as new for it.
    const std::uint64_t gen = job_gen(job_.load(std::memory_order_acquire));
    for (int w = 1; w < nthreads_; ++w) workers_.emplace_back([this, w, gen] { worker_main(w, gen); });
  }

  void stop_workers() {  // run_mu_ held
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_release);
      job_.store(job_word(++gen_, false, 0, 0), std::memory_order_release);
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  // Claims one task of the job `seen` (same generation); -1 when none is left or the job
  // has changed. Pinned: this worker's own tasks first (t % threads == worker), then any.
  int claim(int worker, std::uint64_t& seen) {
    const std::uint64_t gen = job_gen(seen);
    const bool pinned = job_pinned(seen);
    for (;;) {
      const int n = job_n(seen);
      const std::uint32_t state = job_state(seen);
      int t = -1;
      std::uint32_t next;
      if (pinned) {
        for (int c = worker; c < n && t < 0; c += nthreads_)
          if (!(state >> c & 1u)) t = c;
        for (int c = 0; c < n && t < 0; ++c)
          if (!(state >> c & 1u)) t = c;
        next = state | (t >= 0 ? (1u << t) : 0u);
      } else {
        t = static_cast<int>(state) < n ? static_cast<int>(state) : -1;
        next = state + 1;
      }
      if (t < 0) return -1;
      if (job_.compare_exchange_weak(seen, job_word(gen, pinned, n, next), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        return t;
      }
      if (job_gen(seen) != gen) return -1;  // a later job (cannot happen before ours is done)
    }
  }

  void work(int worker, std::uint64_t seen) {
    for (int t = claim(worker, seen); t >= 0; t = claim(worker, seen)) {
      fn_(ctx_, first_ + t, worker);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void worker_main(int worker, std::uint64_t seen_gen) {
    flush_denormals_on_this_thread();
    t_in_task = true;  // a parallel_for inside a task runs inline
    for (;;) {
      // Spin for a while, then sleep until the generation changes.
      const auto until = std::chrono::steady_clock::now() + kSpin;
      int spins = 0;
      while (job_gen(job_.load(std::memory_order_acquire)) == seen_gen) {
        RK_CPU_RELAX();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return job_gen(job_.load(std::memory_order_acquire)) != seen_gen; });
          break;
        }
      }
      const std::uint64_t word = job_.load(std::memory_order_acquire);
      seen_gen = job_gen(word);
      if (stop_.load(std::memory_order_acquire)) return;
      work(worker, word);
    }
  }

  std::mutex run_mu_;  // one job (or resize) at a time
  bool started_ = false;
  int nthreads_ = 1;                          // run_mu_ held (and read by workers)
  std::atomic<int> published_threads_{0};     // nthreads_ once started, for threads()
  std::vector<std::thread> workers_;
  std::uint64_t gen_ = 0;  // last generation published (run_mu_ held)

  std::mutex mu_;  // pairs with cv_ for sleeping
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> job_{0};

  // The current job's constants, written before job_ is published and stable until all
  // its tasks are done.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int first_ = 0;
  std::atomic<int> done_{0};
};

// Never destroyed: workers may still be asleep when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int threads() { return pool().threads(); }
bool in_parallel_task() { return t_in_task; }

int resolve_threads(int n) {
  if (n != 0) return n;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

bool set_threads(int n) {
  if (n < 0) return false;
  pool().resize(resolve_threads(n));
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

extern "C" int32_t rk_resolve_threads(int32_t n) { return n < 0 ? n : rk::resolve_threads(n); }
