// The pool behind parallel_for: workers sleep on a condition variable between calls and are
// woken by a generation counter; the calling thread does the first share itself.
// Built with TINCEPTION_NO_THREADS (-Dthreads=disabled), there is no pool and no std::thread:
// every task runs inline on the calling thread, in order.
#include "parallel/thread_pool.hpp"

#ifdef TINCEPTION_NO_THREADS

namespace tinception {

void parallel_for(int tasks, const std::function<void(int task)>& task) {
    for (int t = 0; t < tasks; ++t) task(t);
}

int thread_count() { return 1; }

void set_thread_count(int) {}

}  // namespace tinception

#else

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
        std::unique_lock<std::mutex> lock(call_mutex_);  // one parallel_for at a time
        {
            std::lock_guard<std::mutex> guard(mutex_);
            tasks_ = tasks;
            task_ = &task;
            pending_ = threads - 1;
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        run_share(0, threads);
        std::unique_lock<std::mutex> guard(mutex_);
        done_.wait(guard, [&] { return pending_ == 0; });
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

private:
    void start(int threads) {
        quit_ = false;
        // A new worker must wait for the next call, not replay the last one.
        const unsigned long now = generation_;
        for (int i = 1; i < (threads > 1 ? threads : 1); ++i)
            workers_.emplace_back([this, i, now] { worker_loop(i, now); });
    }

    void stop() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            quit_ = true;
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

    void worker_loop(int index, unsigned long seen) {
        for (;;) {
            int threads = 0;
            {
                std::unique_lock<std::mutex> guard(mutex_);
                wake_.wait(guard, [&] { return quit_ || generation_ != seen; });
                if (quit_) return;
                seen = generation_;
                threads = size();
            }
            run_share(index, threads);
            {
                std::lock_guard<std::mutex> guard(mutex_);
                --pending_;
            }
            done_.notify_one();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex call_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    unsigned long generation_ = 0;
    int pending_ = 0;
    int tasks_ = 0;
    const std::function<void(int)>* task_ = nullptr;
    std::exception_ptr error_;
    bool quit_ = false;
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

void set_thread_count(int threads) { pool().resize(threads > 1 ? threads : 1); }

}  // namespace tinception

#endif  // TINCEPTION_NO_THREADS
