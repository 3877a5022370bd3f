#include "tools/serve_jobs.hpp"

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "io/atomic_write.hpp"
#include "io/file_util.hpp"
#include "io/image.hpp"
#include "nst/memory_estimate.hpp"
#include "nst/stylize.hpp"
#include "tools/serve_image.hpp"
#include "tools/serve_request.hpp"

namespace nst::serve {

using Clock = std::chrono::steady_clock;

const char* job_state_name(JobState state) {
  switch (state) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::done: return "done";
    case JobState::failed: return "failed";
    case JobState::cancelled: return "cancelled";
    case JobState::timed_out: return "timed_out";
  }
  return "unknown";
}

bool is_finished(JobState state) { return state != JobState::queued && state != JobState::running; }

// Fields other than `cancel` are guarded by JobQueue::mutex_.
struct JobQueue::Job {
  std::string id, file;
  StylizeConfig config;  // size, scales, iterations; the rest the CLI's defaults
  Tensor photo, painting;
  JobStatus status;
  Clock::time_point started, ended;
  std::atomic<bool> cancel{false};
};

namespace {

// The run a request asks for: the CLI's defaults at the request's size and
// iterations, its scales fixed here (for these photos' shapes) so that the
// total number of iterations is known while the job waits.
StylizeConfig job_config(const JobRequest& r) {
  StylizeConfig c;
  c.size = r.size;
  c.iterations = r.iterations;
  c.print_every = 0;
  c.save_every = JobQueue::kSnapshotEvery;
  c.scales = coarse_to_fine_scales(c.size, short_over_long({r.photo, r.painting}));
  return c;
}

int64_t total_iterations(const StylizeConfig& c) {
  int64_t total = 0;
  for (size_t s = 0; s < c.scales.size(); ++s) total += scale_iterations(c, s, c.scales.size());
  return total;
}

}  // namespace

JobQueue::JobQueue(const Vgg19* vgg, JobLimits limits, std::string work_dir)
    : vgg_(vgg), limits_(limits), work_dir_(std::move(work_dir)) {
  for (int64_t i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { work(); });
  janitor_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) break;
      lock.unlock();
      expire_finished(Clock::now());
      lock.lock();
    }
  });
}

JobQueue::~JobQueue() { shutdown(); }

std::string JobQueue::submit(JobRequest request) {
  if (vgg_ == nullptr)
    throw RequestError(503, "optimisation jobs are off: the server has no VGG-19 weights "
                            "(start it with --weights FILE)");
  auto job = std::make_shared<Job>();
  job->config = job_config(request);
  const int64_t largest = job->config.scales.back();
  job->photo = shrink_to_long_side(request.photo, largest);
  job->painting =
      shrink_to_long_side(request.painting, style_long_side(job->config.style_scale, largest));
  // Refused now rather than killed by the kernel later (the CLI's estimate).
  const int64_t need = estimate_stylize_memory(job->config, job->photo.h(), job->photo.w(),
                                               job->painting.h(), job->painting.w(), 0)
                           .total();
  const int64_t have = available_memory_bytes();
  if (have > 0 && need > have)
    throw RequestError(413, "this job needs about " + format_bytes(need) + " but " +
                                format_bytes(have) + " are free: ask for a smaller size");
  job->status.total = total_iterations(job->config);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) throw RequestError(503, "the server is shutting down");
  const int64_t waiting = int64_t(waiting_.size());
  if (running_ + waiting >= limits_.workers + limits_.queued)
    throw RequestError(503, "the job queue is full (" + std::to_string(running_) + " running, " +
                                std::to_string(waiting) + " waiting): try again later");
  do job->id = new_job_id();
  while (jobs_.count(job->id) != 0);
  job->file = (std::filesystem::path(work_dir_) / (job->id + ".png")).string();
  jobs_[job->id] = job;
  waiting_.push_back(job->id);
  wake_.notify_all();
  return job->id;
}

std::optional<JobStatus> JobQueue::status(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  const Job& job = *it->second;
  JobStatus s = job.status;
  if (s.state == JobState::running) {
    s.seconds = std::chrono::duration<double>(Clock::now() - job.started).count();
    if (s.done > 0) s.eta_seconds = s.seconds * double(s.total - s.done) / double(s.done);
  }
  return s;
}

std::optional<std::string> JobQueue::image(const std::string& id) const {
  std::string file;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    if (it->second->status.width == 0) return std::string();
    file = it->second->file;
  }
  try {
    return read_file(file, "job picture");  // replaced atomically: always a whole file
  } catch (const Error&) {
    return std::nullopt;  // deleted since (expired or cancelled)
  }
}

bool JobQueue::cancel(const std::string& id) {
  std::shared_ptr<Job> removed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return false;
    Job& job = *it->second;
    if (job.status.state == JobState::queued) {
      std::erase(waiting_, id);
      finish(job, JobState::cancelled, "cancelled before it started");
    } else if (job.status.state == JobState::running) {
      job.cancel = true;
      job.status.cancel_requested = true;
    } else {
      removed = it->second;
      jobs_.erase(it);
    }
  }
  if (removed) remove_file(*removed);
  return true;
}

JobCounts JobQueue::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {int64_t(waiting_.size()), running_, finished_counts_, finished_runs_, finished_seconds_};
}

void JobQueue::expire_finished(Clock::time_point now) {
  std::vector<std::shared_ptr<Job>> expired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      const Job& job = *it->second;
      if (is_finished(job.status.state) &&
          std::chrono::duration<double>(now - job.ended).count() > limits_.keep_seconds) {
        expired.push_back(it->second);
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& job : expired) remove_file(*job);
}

void JobQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, job] : jobs_) {
      job->cancel = true;
      if (job->status.state == JobState::queued)
        finish(*job, JobState::cancelled, "the server shut down before it started");
    }
    waiting_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  janitor_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [id, job] : jobs_) remove_file(*job);
  jobs_.clear();
}

void JobQueue::work() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = jobs_.at(waiting_.front());
      waiting_.erase(waiting_.begin());
      job->status.state = JobState::running;
      job->started = Clock::now();
      ++running_;
    }
    run(*job);
  }
}

void JobQueue::run(Job& job) {
  const auto deadline = job.started + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(limits_.max_seconds));
  bool timed_out = false;
  const auto keep_picture = [&](const Tensor& rgb) {
    write_file_atomically(job.file, encode_image(rgb, ImageFormat::png));
    std::lock_guard<std::mutex> lock(mutex_);
    job.status.width = rgb.w();
    job.status.height = rgb.h();
  };
  StylizeCallbacks cb;
  cb.interrupted = [&] {
    timed_out = timed_out || Clock::now() > deadline;
    return job.cancel.load() || timed_out;
  };
  cb.on_iteration = [&](const IterationInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    job.status.done = info.done;
    job.status.total = info.total;
    job.status.loss = info.loss.total;
  };
  // A snapshot that cannot be written (a full disk) does not end the run: the
  // final picture matters more (as in nst stylize). The status says so.
  cb.on_snapshot = [&](const Tensor& rgb, int64_t) {
    try {
      keep_picture(rgb);
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      job.status.message = std::string("warning: ") + e.what() + " (the run goes on)";
    }
  };
  JobState state = JobState::done;
  std::string message;
  try {
    const StylizeResult r = stylize(job.config, *vgg_, job.photo, {job.painting}, cb);
    if (r.image.defined()) keep_picture(r.image);
    if (r.diverged) {
      state = JobState::failed;
      message = "the loss became NaN or infinite; the picture is the last good one";
    } else if (r.interrupted && timed_out) {
      state = JobState::timed_out;
      message = "stopped after the time limit of " + std::to_string(int64_t(limits_.max_seconds)) +
                " s; the picture is the one reached";
    } else if (r.interrupted) {
      state = JobState::cancelled;
      message = stopping_ ? "the server shut down" : "cancelled";
    }
  } catch (const std::exception& e) {
    state = JobState::failed;
    message = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  finish(job, state, message);
  job.photo = job.painting = Tensor();  // the inputs are not needed any more
}

void JobQueue::finish(Job& job, JobState state, const std::string& message) {
  if (job.status.state == JobState::running) {
    --running_;
    job.status.seconds = std::chrono::duration<double>(Clock::now() - job.started).count();
    ++finished_runs_;
    finished_seconds_ += job.status.seconds;
  }
  job.status.state = state;
  if (!message.empty()) job.status.message = message;  // else a snapshot's warning stays
  job.status.eta_seconds = -1;
  job.ended = Clock::now();
  ++finished_counts_[job_state_name(state)];
}

void JobQueue::remove_file(const Job& job) {
  std::error_code ec;
  std::filesystem::remove(job.file, ec);  // none yet, or already gone: nothing to do
}

}  // namespace nst::serve
