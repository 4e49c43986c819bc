// parallel_for: the row-parallel loop of the CPU kernels, on a small persistent thread pool.
//
// Why not an OpenMP parallel region: its closing barrier waits for every team thread to arrive,
// so on a busy machine one descheduled worker stalls the call (measured: bilinear resize 2x slower
// with 2 OpenMP threads than with 1 on the shared 2-core box). Here the calling thread takes chunks
// too and waits only for chunks that were actually claimed; a worker that wakes late finds nothing
// left and costs nothing. A call arriving while the pool is busy (several Python threads) or in a
// forked child runs serially in the caller. Threads: VIDFAST_NUM_THREADS, else OMP_NUM_THREADS,
// else the hardware concurrency.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vidfast {

class ThreadPool {
 public:
  using Body = std::function<void(int64_t, int64_t)>;

  static ThreadPool& instance() {
    static ThreadPool* pool = new ThreadPool();  // leaked on purpose: no joins during interpreter exit
    return *pool;
  }

  int threads() const { return static_cast<int>(workers_) + 1; }

  // Runs body(begin, end) over [0, n) in chunks of `grain`; returns when every chunk is done.
  void run(int64_t n, int64_t grain, const Body& body) {
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (!busy.owns_lock() || workers_ == 0 || getpid() != pid_) return body(0, n);
    auto job = std::make_shared<Job>(body, n, grain);
    {
      std::lock_guard<std::mutex> lk(mutex_);
      job_ = job;
      ++generation_;
    }
    wake_.notify_all();
    work(*job);
    std::unique_lock<std::mutex> lk(mutex_);
    done_.wait(lk, [&] { return job->done.load() == job->chunks; });
  }

 private:
  struct Job {
    Job(const Body& b, int64_t n_, int64_t g) : body(b), n(n_), grain(g), chunks((n_ + g - 1) / g) {}
    const Body& body;  // lives on the caller's stack until run() returns, after the last chunk
    int64_t n, grain, chunks;
    std::atomic<int64_t> next{0}, done{0};
  };

  ThreadPool() : pid_(getpid()) {
    workers_ = static_cast<unsigned>(std::max(1, configured_threads()) - 1);
    for (unsigned i = 0; i < workers_; ++i) std::thread([this] { loop(); }).detach();
  }

  static int configured_threads() {
    for (const char* name : {"VIDFAST_NUM_THREADS", "OMP_NUM_THREADS"}) {
      const char* v = std::getenv(name);
      if (v && std::atoi(v) > 0) return std::atoi(v);
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  void work(Job& job) {
    for (;;) {
      const int64_t c = job.next.fetch_add(1);
      if (c >= job.chunks) return;
      job.body(c * job.grain, std::min(job.n, (c + 1) * job.grain));
      if (job.done.fetch_add(1) + 1 == job.chunks) {
        std::lock_guard<std::mutex> lk(mutex_);
        done_.notify_all();
      }
    }
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(mutex_);
    for (;;) {
      wake_.wait(lk, [&] { return generation_ != seen; });
      seen = generation_;
      std::shared_ptr<Job> job = job_;
      lk.unlock();
      // A job whose chunks are all claimed may already have returned: only touch it via counters.
      if (job->next.load() < job->chunks) work(*job);
      job.reset();
      lk.lock();
    }
  }

  pid_t pid_;
  unsigned workers_ = 0;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::shared_ptr<Job> job_;
  uint64_t generation_ = 0;
};

// body(begin, end) over [0, n); serial when n * work_per_item is too small to be worth splitting.
template <typename F>
void parallel_for(int64_t n, int64_t work_per_item, F&& body, int64_t min_work = 1 << 15) {
  if (n <= 0) return;
  ThreadPool& pool = ThreadPool::instance();
  if (n * work_per_item < min_work || n == 1 || pool.threads() == 1) return body(int64_t{0}, n);
  const int64_t grain = std::max<int64_t>(1, n / (int64_t{pool.threads()} * 8));
  pool.run(n, grain, ThreadPool::Body(std::forward<F>(body)));
}

}  // namespace vidfast
