// nst serve: optimisation jobs (nst::stylize, Gatys et al.) in a bounded queue.
//
//   JobQueue jobs(&vgg, limits, work_dir);
//   const std::string id = jobs.submit(std::move(request));  // 503 when the queue is full
//   std::optional<JobStatus> s = jobs.status(id);             // nullopt: no such job
//   jobs.cancel(id);                                          // stops between two iterations
//
// `limits.workers` threads run the jobs, one each, in submission order; at most
// `limits.queued` more wait. A job's latest picture (every kSnapshotEvery
// iterations, then the final one) is written atomically to WORK/<id>.png, a
// name made of the job's random id only; a finished job and its file go
// `limits.keep_seconds` after it ended (expire_finished, called by a janitor thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "models/vgg19.hpp"
#include "tensor/tensor.hpp"

namespace nst::serve {

struct JobLimits {
  int64_t workers = 1;           // jobs run at once (0: none runs; tests fill the queue)
  int64_t queued = 4;            // jobs that may wait beyond those running
  double max_seconds = 600;      // a running job is stopped after this long (state timed_out)
  double keep_seconds = 1800;    // a finished job is deleted this long after it ended
};

struct JobRequest {
  Tensor photo, painting;  // RGB 0..255, any size (shrunk to the job's scales)
  int64_t size = 256;      // long side of the result
  int64_t iterations = 100;  // per scale (the coarsest of several runs 4 times as many)
};

enum class JobState { queued, running, done, failed, cancelled, timed_out };
const char* job_state_name(JobState state);
bool is_finished(JobState state);

struct JobStatus {
  JobState state = JobState::queued;
  int64_t done = 0, total = 0;   // iterations over all scales
  double loss = -1;              // the latest total loss (< 0: none yet)
  double seconds = 0;            // running time so far (or in all, once finished)
  double eta_seconds = -1;       // < 0: unknown
  int64_t width = 0, height = 0; // of the latest picture (0: none yet)
  bool cancel_requested = false;
  std::string message;           // why it failed / stopped
};

struct JobCounts {
  int64_t queued = 0, running = 0;
  std::map<std::string, int64_t> finished;  // by state name, since the start
  int64_t finished_runs = 0;                // finished jobs that had started
  double finished_seconds = 0;              // their running time
};

class JobQueue {
 public:
  static constexpr int64_t kSnapshotEvery = 5;

  // vgg: the network the jobs share (nullptr: jobs are refused with 503).
  JobQueue(const Vgg19* vgg, JobLimits limits, std::string work_dir);
  ~JobQueue();  // shutdown()
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Queues a job and returns its id; RequestError 503 when the queue is full
  // or there is no network, 400 when the run would not fit in memory.
  std::string submit(JobRequest request);
  std::optional<JobStatus> status(const std::string& id) const;
  // The latest picture's PNG bytes: nullopt for no such job, "" for no picture yet.
  std::optional<std::string> image(const std::string& id) const;
  // A queued job ends at once, a running one between two iterations (its
  // picture so far is kept); a finished one is deleted with its picture.
  // false: no such job.
  bool cancel(const std::string& id);
  JobCounts counts() const;
  // Deletes the jobs that finished more than keep_seconds before `now`.
  void expire_finished(std::chrono::steady_clock::time_point now);
  // Cancels every job, waits for the running ones to stop, deletes the files.
  void shutdown();

 private:
  struct Job;
  void work();
  void run(Job& job);
  void finish(Job& job, JobState state, const std::string& message);
  void remove_file(const Job& job);

  const Vgg19* vgg_;
  JobLimits limits_;
  std::string work_dir_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::string> waiting_;  // ids in submission order
  int64_t running_ = 0;
  std::map<std::string, int64_t> finished_counts_;
  int64_t finished_runs_ = 0;
  double finished_seconds_ = 0;
  std::atomic<bool> stopping_{false};  // written under mutex_; read by running jobs
  std::vector<std::thread> workers_;
  std::thread janitor_;
};

}  // namespace nst::serve
