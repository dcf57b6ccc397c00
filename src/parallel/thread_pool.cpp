// The pool behind parallel_for: workers poll a generation counter for a short while after
// each call, then sleep on a condition variable; the calling thread does the first share itself
// and, like every thread that finishes early, then takes tasks left in the others' shares.
// Built with TINCEPTION_NO_THREADS (-Dthreads=disabled), there is no pool and no std::thread:
// every task runs inline on the calling thread, in order.
#include "parallel/thread_pool.hpp"

#ifdef TINCEPTION_NO_THREADS

namespace tinception {

void parallel_for(int tasks, const std::function<void(int task)>& task) {
    for (int t = 0; t < tasks; ++t) task(t);
}

void run_on_every_thread(const std::function<void(int thread)>& task) { task(0); }

double caller_wait_seconds() { return 0.0; }

int thread_count() { return 1; }

int thread_index() { return 0; }

void set_thread_count(int) {}

}  // namespace tinception

#else

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tinception {
namespace {

thread_local bool t_inside_task = false;
thread_local int t_thread_index = 0;  // set for a worker's life; the caller's stays 0

// How long a thread that has finished its share keeps polling before it sleeps. A network
// calls parallel_for once per layer with microseconds between calls, while waking a sleeping
// thread costs tens of microseconds (more inside a virtual machine): without the spin, every
// layer would start one thread late. Idle threads sleep after this, so a pool between
// requests costs no CPU.
constexpr auto kSpinTime = std::chrono::microseconds(500);

// A hint to the core that this is a polling loop (x86 pause, ARM yield); nothing elsewhere.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

// Polls `ready` for up to kSpinTime; true when it became true.
template <typename Ready>
bool spin_until(const Ready& ready) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= deadline) return ready();
    }
}

int default_thread_count() {
    if (const char* env = std::getenv("TINCEPTION_THREADS"); env && *env) {
        const long n = std::strtol(env, nullptr, 10);
        if (n > 0) return int(n < 1024 ? n : 1024);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw ? int(hw) : 1;
}

// A call's tasks, as the claimable shares of its threads. Each share is one 64-bit word:
// the call's tag (so a worker that wakes late cannot claim from the next call), the next task
// and the end of the range. Its owner claims from the front, in order; a thread whose own share
// is used up takes the last unclaimed task of another's, so a thread the system does not run
// for a while (a busy or virtual machine) delays the call by at most the task it holds.
class Shares {
public:
    static constexpr int kMaxTasks = 1 << 22;

    void resize(int threads) { words_ = std::make_unique<std::atomic<std::uint64_t>[]>(std::size_t(threads)); }

    // Thread i of `threads` gets [i*tasks/threads, (i+1)*tasks/threads), tagged `call`.
    void deal(std::uint64_t call, int tasks, int threads) {
        for (int i = 0; i < threads; ++i) {
            const std::uint64_t begin = std::uint64_t(long(tasks) * i / threads);
            const std::uint64_t end = std::uint64_t(long(tasks) * (i + 1) / threads);
            // release: a claim that reads it (acquire) also sees the call's task, wherever
            // the claiming thread got its tag from.
            words_[std::size_t(i)].store(pack(call, begin, end), std::memory_order_release);
        }
    }

    // The next task of share i for call `call` (its first if `own`, else its last), or -1.
    int claim(int i, std::uint64_t call, bool own) {
        std::atomic<std::uint64_t>& word = words_[std::size_t(i)];
        std::uint64_t v = word.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint64_t next = (v >> kBits) & kMask, end = v & kMask;
            if ((v >> (2 * kBits)) != (call & kTagMask) || next >= end) return -1;
            const std::uint64_t taken = own ? pack(call, next + 1, end) : pack(call, next, end - 1);
            if (word.compare_exchange_weak(v, taken, std::memory_order_acquire, std::memory_order_relaxed))
                return int(own ? next : end - 1);
        }
    }

private:
    static constexpr int kBits = 22;
    static constexpr std::uint64_t kMask = (std::uint64_t(1) << kBits) - 1;
    static constexpr std::uint64_t kTagMask = (std::uint64_t(1) << (64 - 2 * kBits)) - 1;
    static std::uint64_t pack(std::uint64_t call, std::uint64_t next, std::uint64_t end) {
        return (call & kTagMask) << (2 * kBits) | next << kBits | end;
    }

    std::unique_ptr<std::atomic<std::uint64_t>[]> words_;
};

class ThreadPool {
public:
    explicit ThreadPool(int threads) { start(threads); }
    ~ThreadPool() { stop(); }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }

    double caller_wait_seconds() const { return 1e-9 * double(caller_wait_ns_.load(std::memory_order_relaxed)); }

    // Keeps the workers when the size does not change (bench switches per run).
    void resize(int threads) {
        if (threads == size()) return;
        stop();
        start(threads);
    }

    void run(int tasks, const std::function<void(int)>& task) {
        std::unique_lock<std::mutex> call(call_mutex_);  // one parallel_for at a time
        for (int first = 0; first < tasks; first += Shares::kMaxTasks) {
            const int count = tasks - first < Shares::kMaxTasks ? tasks - first : Shares::kMaxTasks;
            run_part(first, count, task);
        }
    }

    // Task `index` of `threads` at once: each thread runs exactly one, none is taken over.
    void run_on_each_thread(const std::function<void(int)>& task) {
        std::unique_lock<std::mutex> call(call_mutex_);
        one_each_.store(true, std::memory_order_relaxed);
        run_part(0, size(), task);
        one_each_.store(false, std::memory_order_relaxed);
    }

private:
    void run_part(int first, int tasks, const std::function<void(int)>& task) {
        const int threads = size();
        {
            // Under the mutex, so a worker between its last poll and its sleep cannot miss it.
            std::lock_guard<std::mutex> guard(mutex_);
            first_ = first;
            task_ = &task;
            error_ = nullptr;
            failed_.store(false, std::memory_order_relaxed);
            remaining_.store(tasks, std::memory_order_relaxed);
            shares_.deal(generation_.load(std::memory_order_relaxed) + 1, tasks, threads);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        run_share(0, threads, generation_.load(std::memory_order_relaxed));
        // Waits for the tasks, not for the workers: one that wakes after they are all done
        // finds nothing left to claim.
        const auto all_done = [&] { return remaining_.load(std::memory_order_acquire) == 0; };
        if (!all_done()) {
            const auto wait_start = std::chrono::steady_clock::now();
            if (!spin_until(all_done)) {
                std::unique_lock<std::mutex> guard(mutex_);
                done_.wait(guard, all_done);
            }
            caller_wait_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - wait_start).count(),
                                      std::memory_order_relaxed);
        }
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

    void start(int threads) {
        quit_.store(false);
        // A new worker must wait for the next call, not replay the last one.
        const unsigned long now = generation_.load();
        const int size = threads > 1 ? threads : 1;
        shares_.resize(size);
        for (int i = 1; i < size; ++i) workers_.emplace_back([this, i, size, now] { worker_loop(i, size, now); });
    }

    void stop() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            quit_.store(true);
        }
        wake_.notify_all();
        for (std::thread& w : workers_) w.join();
        workers_.clear();
    }

    // Runs task t (claimed, so no other thread has it) and counts it done; after a task has
    // thrown, the rest are counted without running.
    void run_claimed(int t) {
        if (!failed_.load(std::memory_order_relaxed)) {
            try {
                (*task_)(first_ + t);
            } catch (...) {
                std::lock_guard<std::mutex> guard(mutex_);
                if (!error_) error_ = std::current_exception();
                failed_.store(true, std::memory_order_relaxed);
            }
        }
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            // The caller may be asleep on done_; the mutex orders this with its check.
            std::lock_guard<std::mutex> guard(mutex_);
            done_.notify_one();
        }
    }

    // The thread's own share first, then what is left of the others'.
    void run_share(int index, int threads, std::uint64_t call) {
        t_inside_task = true;
        for (int t; (t = shares_.claim(index, call, true)) >= 0;) run_claimed(t);
        if (!one_each_.load(std::memory_order_relaxed))
            for (int k = 1; k < threads; ++k)
                for (int t; (t = shares_.claim((index + k) % threads, call, false)) >= 0;) run_claimed(t);
        t_inside_task = false;
    }

    // `threads` is fixed for a worker's life: resize stops the pool and starts a new one.
    void worker_loop(int index, int threads, unsigned long seen) {
        t_thread_index = index;
        const auto called = [&] {
            return quit_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
        };
        for (;;) {
            if (!spin_until(called)) {
                std::unique_lock<std::mutex> guard(mutex_);
                wake_.wait(guard, called);
            }
            if (quit_.load(std::memory_order_acquire)) return;
            seen = generation_.load(std::memory_order_acquire);
            run_share(index, threads, seen);
        }
    }

    std::vector<std::thread> workers_;
    std::mutex call_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::atomic<unsigned long> generation_{0};
    std::atomic<int> remaining_{0};
    std::atomic<bool> failed_{false};
    std::atomic<bool> quit_{false};
    Shares shares_;
    int first_ = 0;
    std::atomic<std::int64_t> caller_wait_ns_{0};
    std::atomic<bool> one_each_{false};
    const std::function<void(int)>* task_ = nullptr;
    std::exception_ptr error_;
};

ThreadPool& pool() {
    static ThreadPool instance(default_thread_count());
    return instance;
}

}  // namespace

void parallel_for(int tasks, const std::function<void(int task)>& task) {
    if (tasks <= 0) return;
    if (t_inside_task || tasks == 1 || pool().size() == 1) {
        for (int t = 0; t < tasks; ++t) task(t);
        return;
    }
    pool().run(tasks, task);
}

void run_on_every_thread(const std::function<void(int thread)>& task) {
    if (t_inside_task || pool().size() == 1) {
        task(0);
        return;
    }
    pool().run_on_each_thread(task);
}

double caller_wait_seconds() { return pool().caller_wait_seconds(); }

int thread_count() { return pool().size(); }

int thread_index() { return t_thread_index; }

void set_thread_count(int threads) { pool().resize(threads > 1 ? threads : 1); }

}  // namespace tinception

#endif  // TINCEPTION_NO_THREADS
