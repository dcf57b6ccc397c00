// A small persistent thread pool with a statically partitioned parallel_for. It does not
// balance load or steal work: task t always goes to the same thread for a given thread count.
// A -Dthreads=disabled build has no pool: tasks run inline, in order, and thread_count() is 1.
#pragma once
#include <functional>

namespace tinception {

// Runs task(0) .. task(tasks - 1) across the pool and returns when all have finished.
// Thread i of T (the caller is thread 0) runs the contiguous range [i*tasks/T, (i+1)*tasks/T).
// A call made from inside a task runs serially on the calling thread. The first exception a
// task throws is rethrown here after every thread has stopped.
void parallel_for(int tasks, const std::function<void(int task)>& task);

// Threads parallel_for uses, the caller included: TINCEPTION_THREADS if set to a positive
// number, else std::thread::hardware_concurrency(), until set_thread_count changes it.
int thread_count();

// Which of the thread_count() threads is running the calling task: 0 for the thread that
// called parallel_for (and outside any task), 1..thread_count()-1 for the workers. Lets a
// task pick its thread's own scratch.
int thread_index();

// Resizes the pool (values below 1 mean 1). Not to be called while a parallel_for runs.
void set_thread_count(int threads);

}  // namespace tinception
