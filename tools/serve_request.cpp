#include "tools/serve_request.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

namespace nst::serve {

namespace {

// The text quoted in a message: at most 40 bytes, non-printable ones as '?'.
std::string quoted(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < 40; ++i) {
    const char c = text[i];
    out += (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? c : '?';
  }
  if (text.size() > 40) out += "...";
  return "'" + out + "'";
}

}  // namespace

int64_t parse_int_field(const std::string& field, const std::string& text, int64_t lo, int64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  bool digits = !text.empty() && text.size() <= 18;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (!digits)
    throw RequestError(400, "field '" + field + "': " + quoted(text) +
                                " is not a whole number (expected " + range + ")");
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);  // 18 digits always fit
  if (v < lo || v > hi)
    throw RequestError(400, "field '" + field + "': " + text + " is out of range (expected " +
                                range + ")");
  return v;
}

std::vector<double> parse_style_mix(const std::string& text, int64_t style_count) {
  const std::string where = "field 'mix': ";
  if (text.size() > 4096) throw RequestError(400, where + "longer than 4096 characters");
  std::vector<double> weights;
  size_t at = 0;
  while (true) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    double w = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), w);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || !std::isfinite(w) ||
        std::abs(w) > 100)
      throw RequestError(400, where + quoted(item) + " is not a number in -100..100 (give one "
                                      "weight per style, e.g. 0.3,0.7)");
    weights.push_back(w);
    if (int64_t(weights.size()) > style_count) break;
    if (comma == text.size()) break;
    at = comma + 1;
  }
  const std::string styles = std::to_string(style_count) + (style_count == 1 ? " style" : " styles");
  if (int64_t(weights.size()) > style_count)
    throw RequestError(400, where + "more weights than the model's " + styles);
  if (int64_t(weights.size()) < style_count)
    throw RequestError(400, where + std::to_string(weights.size()) +
                                (weights.size() == 1 ? " weight" : " weights") +
                                ", but the model has " + styles);
  return weights;
}

ImageFormat parse_format(const std::string& text) {
  if (text.empty() || text == "png") return ImageFormat::png;
  if (text == "jpg" || text == "jpeg") return ImageFormat::jpg;
  throw RequestError(400, "field 'format': " + quoted(text) + " is not png or jpg");
}

const char* content_type(ImageFormat format) {
  return format == ImageFormat::png ? "image/png" : "image/jpeg";
}

bool valid_job_id(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string new_job_id() {
  static const char hex[] = "0123456789abcdef";
  std::random_device device;  // libstdc++: getrandom / /dev/urandom, never a fixed seed
  std::string id;
  for (int i = 0; i < 4; ++i) {
    uint32_t bits = device();
    for (int k = 0; k < 8; ++k, bits >>= 4) id += hex[bits & 15];
  }
  return id;
}

std::string display_name(const std::string& filename, const std::string& fallback) {
  if (filename.empty() || filename.size() > 64) return fallback;
  for (char c : filename)
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '"' || c == '\\') return fallback;
  return filename;
}

std::string route_label(const std::string& path) {
  static const char* const fixed[] = {"/", "/index.html", "/healthz", "/metrics",
                                      "/api/models", "/api/fast", "/api/jobs"};
  for (const char* f : fixed)
    if (path == f) return f;
  const auto one_segment = [](const std::string& s) {
    return !s.empty() && s.find('/') == std::string::npos;
  };
  const std::string models = "/api/models/", thumb = "/thumbnail";
  if (path.size() > models.size() + thumb.size() && path.compare(0, models.size(), models) == 0 &&
      path.compare(path.size() - thumb.size(), thumb.size(), thumb) == 0 &&
      one_segment(path.substr(models.size(), path.size() - models.size() - thumb.size())))
    return "/api/models/{name}/thumbnail";
  const std::string jobs = "/api/jobs/", image = "/image";
  if (path.size() > jobs.size() && path.compare(0, jobs.size(), jobs) == 0) {
    const std::string rest = path.substr(jobs.size());
    if (one_segment(rest)) return "/api/jobs/{id}";
    if (rest.size() > image.size() &&
        rest.compare(rest.size() - image.size(), image.size(), image) == 0 &&
        one_segment(rest.substr(0, rest.size() - image.size())))
      return "/api/jobs/{id}/image";
  }
  return "other";
}

std::string method_label(const std::string& method) {
  for (const char* m : {"GET", "HEAD", "POST", "DELETE"})
    if (method == m) return m;
  return "other";
}

}  // namespace nst::serve
