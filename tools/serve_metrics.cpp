#include "tools/serve_metrics.hpp"

#include <cstdio>

namespace nst::serve {

void Metrics::count_request(const std::string& method, const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{method, route, status}];
}

std::string Metrics::prometheus(const JobCounts& jobs) const {
  std::string out;
  const auto line = [&](const std::string& name, const std::string& labels, double value) {
    char number[64];
    std::snprintf(number, sizeof number, "%.17g", value);
    out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number + "\n";
  };
  out += "# HELP nst_http_requests_total HTTP requests answered, by method, route and status.\n"
         "# TYPE nst_http_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      line("nst_http_requests_total",
           "method=\"" + method + "\",route=\"" + route + "\",status=\"" + std::to_string(status) +
               "\"",
           double(n));
    }
  }
  out += "# HELP nst_jobs_queued Optimisation jobs waiting to start.\n"
         "# TYPE nst_jobs_queued gauge\n";
  line("nst_jobs_queued", "", double(jobs.queued));
  out += "# HELP nst_jobs_running Optimisation jobs running.\n"
         "# TYPE nst_jobs_running gauge\n";
  line("nst_jobs_running", "", double(jobs.running));
  out += "# HELP nst_jobs_finished_total Optimisation jobs finished, by final state.\n"
         "# TYPE nst_jobs_finished_total counter\n";
  for (const auto& [state, n] : jobs.finished)
    line("nst_jobs_finished_total", "state=\"" + state + "\"", double(n));
  out += "# HELP nst_job_seconds Running time of the finished optimisation jobs that had started.\n"
         "# TYPE nst_job_seconds summary\n";
  line("nst_job_seconds_sum", "", jobs.finished_seconds);
  line("nst_job_seconds_count", "", double(jobs.finished_runs));
  return out;
}

}  // namespace nst::serve
