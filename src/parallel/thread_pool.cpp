// The pool behind parallel_for: workers poll a generation counter for a short while after
// each call, then sleep on a condition variable; the calling thread does the first share itself.
// Built with TINCEPTION_NO_THREADS (-Dthreads=disabled), there is no pool and no std::thread:
// every task runs inline on the calling thread, in order.
#include "parallel/thread_pool.hpp"

#ifdef TINCEPTION_NO_THREADS

namespace tinception {

void parallel_for(int tasks, const std::function<void(int task)>& task) {
    for (int t = 0; t < tasks; ++t) task(t);
}

int thread_count() { return 1; }

int thread_index() { return 0; }

void set_thread_count(int) {}

}  // namespace tinception

#else

#include <atomic>
#include <chrono>
#include <condition_variable>
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

class ThreadPool {
public:
    explicit ThreadPool(int threads) { start(threads); }
    ~ThreadPool() { stop(); }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }

    void resize(int threads) {
        stop();
        start(threads);
    }

    void run(int tasks, const std::function<void(int)>& task) {
        const int threads = size();
        std::unique_lock<std::mutex> call(call_mutex_);  // one parallel_for at a time
        {
            // Under the mutex, so a worker between its last poll and its sleep cannot miss it.
            std::lock_guard<std::mutex> guard(mutex_);
            tasks_ = tasks;
            task_ = &task;
            error_ = nullptr;
            pending_.store(threads - 1, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        run_share(0, threads);
        const auto all_done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
        if (!spin_until(all_done)) {
            std::unique_lock<std::mutex> guard(mutex_);
            done_.wait(guard, all_done);
        }
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

private:
    void start(int threads) {
        quit_.store(false);
        // A new worker must wait for the next call, not replay the last one.
        const unsigned long now = generation_.load();
        const int size = threads > 1 ? threads : 1;
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

    void run_share(int index, int threads) {
        const long begin = long(tasks_) * index / threads;
        const long end = long(tasks_) * (index + 1) / threads;
        t_inside_task = true;
        try {
            for (long t = begin; t < end; ++t) (*task_)(int(t));
        } catch (...) {
            std::lock_guard<std::mutex> guard(mutex_);
            if (!error_) error_ = std::current_exception();
        }
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
            run_share(index, threads);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                // The caller may be asleep on done_; the mutex orders this with its check.
                std::lock_guard<std::mutex> guard(mutex_);
                done_.notify_one();
            }
        }
    }

    std::vector<std::thread> workers_;
    std::mutex call_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::atomic<unsigned long> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> quit_{false};
    int tasks_ = 0;
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

int thread_count() { return pool().size(); }

int thread_index() { return t_thread_index; }

void set_thread_count(int threads) { pool().resize(threads > 1 ? threads : 1); }

}  // namespace tinception

#endif  // TINCEPTION_NO_THREADS
