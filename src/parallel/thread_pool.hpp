// A small persistent thread pool with a parallel_for that deals each thread a contiguous share
// and lets a thread that finishes early take the unstarted tasks at the end of another's, so a
// thread that starts late (or is descheduled) does not hold the others at the barrier. Which
// thread runs a task can therefore change from call to call: a task must depend only on its
// index (scratch picked by thread_index() is the thread's own, never carried between tasks).
// A -Dthreads=disabled build has no pool: tasks run inline, in order, and thread_count() is 1.
#pragma once
#include <functional>

namespace tinception {

// Runs task(0) .. task(tasks - 1) across the pool and returns when all have finished.
// Thread i of T (the caller is thread 0) starts on the range [i*tasks/T, (i+1)*tasks/T), in
// order, then takes unstarted tasks from the back of the other ranges. A call made from inside
// a task runs serially on the calling thread. After a task throws, the tasks not yet started
// are skipped, and the first exception is rethrown here once no task is running.
void parallel_for(int tasks, const std::function<void(int task)>& task);

// Runs task(i) on thread i, for every thread of the pool at once (i = thread_index()), none
// taken over by another: for work that must occupy every core, such as measuring the peak.
void run_on_every_thread(const std::function<void(int thread)>& task);

// Seconds callers of parallel_for have spent waiting for other threads' tasks after running out
// of tasks to take, since the program started: the idle time at the barriers (0 without a pool).
double caller_wait_seconds();

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
