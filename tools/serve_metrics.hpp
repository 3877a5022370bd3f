// nst serve: the numbers GET /metrics reports, in Prometheus' text format
// (https://prometheus.io/docs/instrumenting/exposition_formats/): requests by
// method, route and status; the job queue; the time jobs ran.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "tools/serve_jobs.hpp"

namespace nst::serve {

class Metrics {
 public:
  // One answered request; method and route as method_label / route_label give them.
  void count_request(const std::string& method, const std::string& route, int status);
  // The exposition text: the request counters, then the job gauges and counters.
  std::string prometheus(const JobCounts& jobs) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, int64_t> requests_;
};

}  // namespace nst::serve
