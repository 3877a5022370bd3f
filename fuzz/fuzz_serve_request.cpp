// libFuzzer target: nst serve's own parsing of request fields
// (tools/serve_request.hpp; the HTTP and multipart parsing is cpp-httplib's).
// The input is split at NUL bytes into the fields: a size, a style mix, a
// format, a job id, a file name, a path, a method, after a first byte that
// sets the style count. Besides "no crash", each result must keep its promise.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "tools/serve_request.hpp"

namespace {

void expect(bool promise) {
  if (!promise) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> f(1);
  for (size_t i = 1; i < size; ++i) {
    if (data[i] == 0)
      f.emplace_back();
    else
      f.back() += char(data[i]);
  }
  f.resize(std::max<size_t>(f.size(), 7));
  using namespace nst::serve;
  const int64_t styles = size > 0 ? int64_t(data[0] % 8) + 1 : 1;
  try {
    const int64_t v = parse_int_field("size", f[0], 32, 512);
    expect(v >= 32 && v <= 512);
  } catch (const RequestError& e) {
    expect(e.status() == 400);
  }
  try {
    const std::vector<double> mix = parse_style_mix(f[1], styles);
    expect(int64_t(mix.size()) == styles);
    for (double w : mix) expect(std::isfinite(w) && std::abs(w) <= 100);
  } catch (const RequestError& e) {
    expect(e.status() == 400);
  }
  try {
    parse_format(f[2]);
  } catch (const RequestError& e) {
    expect(e.status() == 400);
  }
  if (valid_job_id(f[3]))
    for (char c : f[3]) expect((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  for (char c : display_name(f[4], "upload")) expect(c >= 0x20 && c < 0x7f && c != '\'');
  static const std::set<std::string> routes = {
      "/", "/index.html", "/healthz", "/metrics", "/api/models", "/api/fast", "/api/jobs",
      "/api/models/{name}/thumbnail", "/api/jobs/{id}", "/api/jobs/{id}/image", "other"};
  expect(routes.count(route_label(f[5])) == 1);
  const std::string m = method_label(f[6]);
  expect(m == "GET" || m == "HEAD" || m == "POST" || m == "DELETE" || m == "other");
  return 0;
}
