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
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <vector>

#include "denormals.h"

#if defined(RNNKIT_WASM_THREADS)
// WebAssembly with shared memory (wasm/dist/rnnkit-threads.wasm). There are no libc threads
// here (Emscripten's standalone modules have no pthreads): the JavaScript host starts each
// worker (a Web Worker or a worker_threads worker instantiating this module over the same
// memory) when the pool asks for it, and the worker enters rkw_worker_main. Everything the
// pool shares is a std::atomic (wasm atomics); sleeping is memory.atomic.wait/notify.
#include <cstdlib>

extern "C" {
// Host imports (src/backend/wasm/threads.ts): start worker `worker` on its own stack and TLS
// block; and the thread count "every core" stands for.
__attribute__((import_module("env"), import_name("rkw_spawn_thread"))) void rkw_spawn_thread(int32_t worker, void* stack_top, void* tls);
__attribute__((import_module("env"), import_name("rkw_hardware_threads"))) int32_t rkw_hardware_threads(void);
// Made by wasm-ld for shared memory: points this instance's thread-local storage at `block`.
void __wasm_init_tls(void* block);
}
#else
#include <condition_variable>
#include <thread>
#endif

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

#if defined(RNNKIT_WASM_THREADS)
// What the pool needs of the platform, without libc threads (see above).
class RunLock {  // a spin lock: held for one job, never for long
 public:
  void lock() {
    while (held_.exchange(true, std::memory_order_acquire)) {
    }
  }
  bool try_lock() { return !held_.exchange(true, std::memory_order_acquire); }
  void unlock() { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};
unsigned hardware_threads() {
  const int32_t n = rkw_hardware_threads();
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}
// The caller waits for running tasks by spinning (a browser's main thread may not block).
void yield_cpu() {}
// Blocks while *word == seen (false wake-ups are fine: callers re-check). A worker blocked
// here is still ended by Worker.terminate() (checked in Node 20: a disposed backend's worker
// ends, and the process exits).
void wait_while_equal(std::atomic<std::uint64_t>& word, std::uint64_t seen) {
  __builtin_wasm_memory_atomic_wait64(reinterpret_cast<int64_t*>(&word), static_cast<int64_t>(seen), -1);
}
void wait_while_equal(std::atomic<int>& word, int seen) {
  __builtin_wasm_memory_atomic_wait32(reinterpret_cast<int32_t*>(&word), seen, -1);
}
template <class T>
void wake_all(std::atomic<T>& word) {
  __builtin_wasm_memory_atomic_notify(reinterpret_cast<int32_t*>(&word), ~0u);
}
// Each worker's stack (the main thread's is 1 MB too: wasm/build.mjs).
constexpr std::size_t kWorkerStack = std::size_t{1} << 20;
// One thread's thread-local storage, laid out as wasm-ld says (nullptr without memory).
void* new_tls_block() {
  const std::size_t align = std::max<std::size_t>(__builtin_wasm_tls_align(), 16);
  const std::size_t size = (__builtin_wasm_tls_size() + align - 1) / align * align;
  return std::aligned_alloc(align, size == 0 ? align : size);
}
#else
using RunLock = std::mutex;
unsigned hardware_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1u : hw;
}
void yield_cpu() { std::this_thread::yield(); }
#endif

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
    std::lock_guard<RunLock> run(run_mu_);
    ensure_started();
    return nthreads_;
  }

  void resize(int n) {
    std::lock_guard<RunLock> run(run_mu_);
    started_ = true;
#if defined(RNNKIT_WASM_THREADS)
    // Workers are never stopped (the host cannot join them synchronously): those at index
    // >= n sit out, asleep on published_threads_, until a resize counts them in again.
    nthreads_ = n;
    start_workers();
    publish_threads(n);
#else
    if (n == nthreads_ && static_cast<int>(workers_.size()) == n - 1) {
      publish_threads(n);
      return;
    }
    stop_workers();
    nthreads_ = n;
    start_workers();
    publish_threads(n);
#endif
  }

#if defined(RNNKIT_WASM_THREADS)
  // Entered by worker `worker` on its own thread (rkw_worker_main); never returns.
  [[noreturn]] void host_worker_main(int worker) {
    __wasm_init_tls(tls_blocks_[worker]);
    worker_main(worker, spawn_gen_[worker]);
    __builtin_trap();  // worker_main only returns on stop, which the wasm pool never sets
  }
#endif

  void run(int n_tasks, TaskFn fn, void* ctx, bool pinned) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1 || t_in_task) return run_inline(0, n_tasks, fn, ctx);
    std::unique_lock<RunLock> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) return run_inline(0, n_tasks, fn, ctx);
    ensure_started();
    if (nthreads_ <= 1) {
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
    struct InTask {  // restored however the tasks end (one may throw to the caller)
      bool outer = t_in_task;
      InTask() { t_in_task = true; }
      ~InTask() { t_in_task = outer; }
    } in_task;
    for (int t = first; t < n_tasks; ++t) fn(ctx, t, 0);
  }

  void run_job(int first, int n, TaskFn fn, void* ctx, bool pinned) {  // run_mu_ held
    fn_ = fn;
    ctx_ = ctx;
    first_ = first;
    done_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    const std::uint64_t word = job_word(++gen_, pinned, n, 0);
    publish_job(word);
    t_in_task = true;
    work(0, word);
    t_in_task = false;
    // Wait for tasks other threads are still running (short: they started before we
    // ran out of tasks to claim).
    const int spin_limit = oversubscribed() ? 0 : 4096;
    for (int spins = 0; done_.load(std::memory_order_acquire) != n; ++spins) {
      if (spins < spin_limit) {
        RK_CPU_RELAX();
      } else {
        yield_cpu();
      }
    }
#if defined(__cpp_exceptions)
    if (failed_.load(std::memory_order_acquire)) {  // every task has ended: safe to unwind
      std::exception_ptr e = std::move(error_);
      error_ = nullptr;
      std::rethrow_exception(e);
    }
#endif
  }

  void ensure_started() {  // run_mu_ held
    if (started_) return;
    started_ = true;
    nthreads_ = static_cast<int>(hardware_threads());
    start_workers();
    publish_threads(nthreads_);
  }

  void publish_threads(int n) {  // run_mu_ held
    published_threads_.store(n, std::memory_order_release);
#if defined(RNNKIT_WASM_THREADS)
    wake_all(published_threads_);  // workers sitting out re-check their index
#endif
  }

#if defined(RNNKIT_WASM_THREADS)
  void publish_job(std::uint64_t word) {  // run_mu_ held
    job_.store(word, std::memory_order_seq_cst);
    // seq_cst store then load, against the sleeper's increment then re-read of job_: one of
    // the two sees the other, so a worker never sleeps through a job.
    if (sleepers_.load(std::memory_order_seq_cst) > 0) wake_all(job_);
  }

  // Asks the host for workers [spawned_, nthreads_), each with a stack and a TLS block
  // allocated here (and kept: workers live as long as the module). A worker the host starts
  // late only misses jobs, as on a busy native machine.
  void start_workers() {  // run_mu_ held
    const std::uint64_t gen = job_gen(job_.load(std::memory_order_acquire));
    for (int w = spawned_; w < nthreads_ && w < kMaxWorkers; ++w) {  // worker 0 is the caller
      void* stack = std::aligned_alloc(16, kWorkerStack);
      void* tls = new_tls_block();
      if (!stack || !tls) {  // no memory for another worker: run with those we have
        std::free(stack);
        std::free(tls);
        nthreads_ = w;
        break;
      }
      tls_blocks_[w] = tls;
      spawn_gen_[w] = gen;
      spawned_ = w + 1;
      rkw_spawn_thread(w, static_cast<char*>(stack) + kWorkerStack, tls);
    }
    nthreads_ = std::min(nthreads_, spawned_);  // at most kMaxWorkers, or as many as memory allowed
  }

  // Sleep until the generation moves past seen_gen.
  void sleep_until_next_job(std::uint64_t seen_gen) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    for (std::uint64_t w = job_.load(std::memory_order_seq_cst); job_gen(w) == seen_gen; w = job_.load(std::memory_order_seq_cst))
      wait_while_equal(job_, w);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }

  // A worker at index >= the thread count sleeps until it is counted in again (true if it did).
  bool sitting_out(int worker) {
    int n = published_threads_.load(std::memory_order_acquire);
    if (worker < n) return false;
    while (worker >= n) {
      wait_while_equal(published_threads_, n);
      n = published_threads_.load(std::memory_order_acquire);
    }
    return true;
  }
#else
  void publish_job(std::uint64_t word) {  // run_mu_ held
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_.store(word, std::memory_order_release);
    }
    cv_.notify_all();
  }

  void sleep_until_next_job(std::uint64_t seen_gen) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return job_gen(job_.load(std::memory_order_acquire)) != seen_gen; });
  }

  bool sitting_out(int) { return false; }
#endif

#if !defined(RNNKIT_WASM_THREADS)
  void start_workers() {  // run_mu_ held
    stop_.store(false, std::memory_order_relaxed);
    // The generation a worker starts from is read here, not in the new thread: a job
    // published before the thread gets to run must still count as new for it.
    const std::uint64_t gen = job_gen(job_.load(std::memory_order_acquire));
    for (int w = 1; w < nthreads_; ++w) {
      try {
        workers_.emplace_back([this, w, gen] { worker_main(w, gen); });
      } catch (const std::system_error&) {  // the system has no more threads for us: run with those we have
        nthreads_ = w;
        break;
      }
    }
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
#endif

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
      run_task(first_ + t, worker);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  // A task that throws (e.g. std::bad_alloc growing a packing buffer) must neither end a
  // worker thread (natively std::terminate; in wasm the helper dies and the caller waits for
  // its done_ forever) nor unwind the caller while other threads still run tasks on its
  // stack frame: the first exception is kept and rethrown by run_job once all have ended.
  void run_task(int task, int worker) {
#if defined(__cpp_exceptions)
    try {
      fn_(ctx_, task, worker);
    } catch (...) {
      if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
    }
#else
    fn_(ctx_, task, worker);
#endif
  }

  void worker_main(int worker, std::uint64_t seen_gen) {
    flush_denormals_on_this_thread();
    t_in_task = true;  // a parallel_for inside a task runs inline
    for (;;) {
      if (sitting_out(worker)) seen_gen = job_gen(job_.load(std::memory_order_acquire));
      // Spin for a while, then sleep until the generation changes (at once when there are
      // more threads than cores: a spinning worker then holds the core the thread it waits
      // for needs -- 128 threads on 2 cores made training ~34x slower than 2).
      if (oversubscribed() && job_gen(job_.load(std::memory_order_acquire)) == seen_gen) sleep_until_next_job(seen_gen);
      const auto until = std::chrono::steady_clock::now() + kSpin;
      int spins = 0;
      while (job_gen(job_.load(std::memory_order_acquire)) == seen_gen) {
        RK_CPU_RELAX();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() > until) {
          sleep_until_next_job(seen_gen);
          break;
        }
      }
      const std::uint64_t word = job_.load(std::memory_order_acquire);
      seen_gen = job_gen(word);
      if (stop_.load(std::memory_order_acquire)) return;
      // A wasm worker beyond a smaller thread count must not take tasks (per-thread scratch
      // is sized by the count); it parks at the top of the loop. (Native workers are
      // restarted on resize, so this never holds there.) The count was published before the
      // job, so the acquire load of job_ above sees it.
      if (worker >= published_threads_.load(std::memory_order_acquire)) continue;
      work(worker, word);
    }
  }

  // More threads than the machine has cores: waiting threads sleep or yield, never spin.
  bool oversubscribed() const { return published_threads_.load(std::memory_order_relaxed) > hardware_threads_; }

  RunLock run_mu_;  // one job (or resize) at a time
  const int hardware_threads_ = static_cast<int>(hardware_threads());
  bool started_ = false;
  int nthreads_ = 1;                          // run_mu_ held (and read by workers)
  std::atomic<int> published_threads_{0};     // nthreads_ once started, for threads()
  std::uint64_t gen_ = 0;  // last generation published (run_mu_ held)
#if defined(RNNKIT_WASM_THREADS)
  static constexpr int kMaxWorkers = 256;
  int spawned_ = 1;  // workers 1..spawned_-1 were asked of the host (run_mu_ held)
  void* tls_blocks_[kMaxWorkers] = {};
  std::uint64_t spawn_gen_[kMaxWorkers] = {};
  std::atomic<int> sleepers_{0};
#else
  std::vector<std::thread> workers_;
  std::mutex mu_;  // pairs with cv_ for sleeping
  std::condition_variable cv_;
#endif
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> job_{0};

  // The current job's constants, written before job_ is published and stable until all
  // its tasks are done.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int first_ = 0;
  std::atomic<int> done_{0};
  std::atomic<bool> failed_{false};  // a task threw; error_ holds the first exception
  std::exception_ptr error_;         // written before that task's done_ increment
};

// Never destroyed: workers may still be asleep when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int threads() { return pool().threads(); }
bool in_parallel_task() { return t_in_task; }

int resolve_threads(int n) { return n != 0 ? n : static_cast<int>(hardware_threads()); }

bool set_threads(int n) {
  if (n < 0) return false;
  pool().resize(resolve_threads(n));
  return true;
}

void parallel_for_raw(int n_tasks, TaskFn fn, void* ctx, bool pinned) {
  pool().run(n_tasks, fn, ctx, pinned);
}

}  // namespace rk

#if defined(RNNKIT_WASM_THREADS)
// The entry of a worker the host started for rkw_spawn_thread (after setting its stack
// pointer to stack_top): claims tasks until the module goes away.
extern "C" __attribute__((export_name("rkw_worker_main"))) void rkw_worker_main(int32_t worker) {
  rk::pool().host_worker_main(worker);
}

// Called by the host on the main instance before _initialize: its thread-local storage
// (wasm-ld lays it out for shared memory, but only a thread runtime would point it anywhere).
// The allocator is set up by a constructor, so the block is static; a trap here means the
// thread_locals outgrew it.
extern "C" __attribute__((export_name("rkw_main_thread_init"))) void rkw_main_thread_init(void) {
  alignas(64) static char block[16384];
  if (__builtin_wasm_tls_size() > sizeof block || __builtin_wasm_tls_align() > 64) __builtin_trap();
  __wasm_init_tls(block);
}
#endif

#endif  // RNNKIT_NO_THREADS

extern "C" rk_status rk_set_threads(int32_t n) {
  if (n < 0 || n > RK_MAX_THREADS) return rk::fail(RK_EINVAL, "rk_set_threads: n must be in 0..%d (0 = every core), got %d", RK_MAX_THREADS, n);
  rk::set_threads(n);
  return RK_OK;
}

extern "C" int32_t rk_get_threads(void) { return rk::threads(); }

extern "C" int32_t rk_resolve_threads(int32_t n) { return n < 0 ? n : rk::resolve_threads(n); }
