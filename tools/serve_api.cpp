// nst serve: the /api handlers (docs/api.md). Each parses and checks its
// fields, then calls the library; errors are thrown and mapped by `guarded`.
#include <algorithm>
#include <chrono>

#include "io/json_writer.hpp"
#include "nst/fast.hpp"
#include "nst/memory_estimate.hpp"
#include "tools/serve_image.hpp"
#include "tools/serve_impl.hpp"

namespace nst::serve {

namespace {

// The uploaded file `name`, decoded: 400 when it is missing or not a picture.
Tensor upload(const httplib::Request& req, const std::string& name, int64_t max_pixels) {
  if (!req.has_file(name))
    throw RequestError(400, "missing the file field '" + name + "' (send multipart/form-data)");
  const httplib::MultipartFormData& f = req.get_file_value(name);
  return decode_upload(f.content, display_name(f.filename, name), max_pixels);
}

void require_form(const httplib::Request& req) {
  if (!req.is_multipart_form_data())
    throw RequestError(400, "send the fields as multipart/form-data (see docs/api.md)");
}

const ServedModel& find_model(const ModelCatalog& catalog, const std::string& name) {
  if (name.empty()) throw RequestError(400, "missing the field 'model' (GET /api/models lists them)");
  const ServedModel* m = catalog.find(name);
  if (m == nullptr)
    throw RequestError(404, "no model '" + display_name(name, "?") + "' (GET /api/models lists them)");
  return *m;
}

// The id in the path, if it names a job: 404 for anything else.
std::string job_id(const httplib::Request& req) {
  const std::string id = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (!valid_job_id(id)) throw RequestError(404, "no job '" + display_name(id, "?") + "'");
  return id;
}

// The style weights a fast request asks for: `style` (one index) or `mix`
// (one weight per style), not both; empty: style 0.
std::vector<double> requested_style(const httplib::Request& req, const ServedModel& m) {
  const std::string index = form_field(req, "style"), mix = form_field(req, "mix");
  const int64_t S = m.net.style_count();
  if (!index.empty() && !mix.empty()) throw RequestError(400, "give 'style' or 'mix', not both");
  if (!mix.empty()) return parse_style_mix(mix, S);
  if (index.empty()) return {};
  std::vector<double> one_hot(size_t(S), 0.0);
  one_hot[size_t(parse_int_field("style", index, 0, S - 1))] = 1.0;
  return one_hot;
}

std::string status_json(const std::string& id, const JobStatus& s) {
  JsonWriter j;
  j.begin_object().key("id").value(id).key("state").value(job_state_name(s.state));
  j.key("done").value(s.done).key("total").value(s.total);
  j.key("progress").value(s.state == JobState::done ? 1.0
                          : s.total > 0             ? double(s.done) / double(s.total)
                                                    : 0.0);
  j.key("loss");
  s.loss >= 0 ? j.value(s.loss) : j.null();
  j.key("elapsed_seconds").value(s.seconds).key("eta_seconds");
  s.eta_seconds >= 0 ? j.value(s.eta_seconds) : j.null();
  j.key("width").value(s.width).key("height").value(s.height).key("image_url");
  s.width > 0 ? j.value("/api/jobs/" + id + "/image") : j.null();
  j.key("cancel_requested").value(s.cancel_requested).key("message").value(s.message);
  return j.end_object().str();
}

}  // namespace

void Server::Impl::add_api_routes() {
  http.Get("/api/models", guarded([this](const httplib::Request&, httplib::Response& res) {
    JsonWriter j;
    j.begin_object().key("models").begin_array();
    for (const auto& m : catalog.models()) {
      j.begin_object().key("name").value(m->name).key("styles").begin_array();
      for (size_t k = 0; k < m->styles.size(); ++k)
        j.begin_object().key("index").value(int64_t(k)).key("name").value(m->styles[k])
            .key("thumbnail").value("/api/models/" + m->name + "/thumbnail?style=" + std::to_string(k))
            .end_object();
      j.end_array().end_object();
    }
    j.end_array().key("jobs").value(vgg != nullptr);
    j.key("limits").begin_object().key("max_upload_bytes").value(options.max_upload_bytes);
    j.key("max_pixels").value(options.max_pixels).key("fast_max_side").value(options.fast_max_side);
    j.key("job_max_size").value(options.job_max_size);
    j.key("job_max_iterations").value(options.job_max_iterations).end_object().end_object();
    send_json(res, 200, j.str());
  }));

  http.Get(R"(/api/models/([^/]+)/thumbnail)",
           guarded([this](const httplib::Request& req, httplib::Response& res) {
             const ServedModel& m = find_model(catalog, req.matches[1].str());
             const std::string style = form_field(req, "style");
             const int64_t k =
                 style.empty() ? 0 : parse_int_field("style", style, 0, m.net.style_count() - 1);
             const std::string png = [&] {
               Gate::Ticket ticket(painting);
               return catalog.thumbnail(m, k);
             }();
             res.set_header("Cache-Control", "max-age=3600");
             res.set_content(png, "image/png");
           }));

  http.Post("/api/fast", guarded([this](const httplib::Request& req, httplib::Response& res) {
    require_form(req);
    const ServedModel& m = find_model(catalog, form_field(req, "model"));
    FastOptions o;
    o.style = requested_style(req, m);
    const std::string size = form_field(req, "size");
    const ImageFormat format = parse_format(form_field(req, "format"));
    const int64_t wanted = size.empty() ? 0 : parse_int_field("size", size, 1, options.fast_max_side);
    Gate::Ticket ticket(painting);  // decoding too: a 16 MP upload is 190 MB of floats
    const Tensor photo = upload(req, "image", options.max_pixels);
    o.size = wanted > 0 ? wanted : std::min(std::max(photo.h(), photo.w()), options.fast_max_side);
    o.max_memory_bytes = available_memory_bytes();
    const FastResult r = fast_stylize(m.net, photo, o);
    res.set_header("X-Network-Seconds", std::to_string(r.network_seconds));
    res.set_content(encode_image(r.image, format), content_type(format));
  }));

  http.Post("/api/jobs", guarded([this](const httplib::Request& req, httplib::Response& res) {
    require_form(req);
    JobRequest job;
    const std::string size = form_field(req, "size"), iterations = form_field(req, "iterations");
    job.size = size.empty() ? std::min<int64_t>(256, options.job_max_size)
                            : parse_int_field("size", size, 32, options.job_max_size);
    job.iterations = iterations.empty()
                         ? std::min<int64_t>(100, options.job_max_iterations)
                         : parse_int_field("iterations", iterations, 1, options.job_max_iterations);
    {
      Gate::Ticket ticket(painting);
      job.photo = upload(req, "photo", options.max_pixels);
      job.painting = upload(req, "painting", options.max_pixels);
    }
    const std::string id = jobs.submit(std::move(job));
    JsonWriter j;
    j.begin_object().key("id").value(id).key("status_url").value("/api/jobs/" + id);
    j.key("image_url").value("/api/jobs/" + id + "/image").end_object();
    res.set_header("Location", "/api/jobs/" + id);
    send_json(res, 202, j.str());
  }));

  http.Get(R"(/api/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = job_id(req);
    const std::optional<JobStatus> s = jobs.status(id);
    if (!s) throw RequestError(404, "no job '" + id + "' (finished jobs are kept for a while only)");
    send_json(res, 200, status_json(id, *s));
  }));

  http.Get(R"(/api/jobs/([^/]+)/image)",
           guarded([this](const httplib::Request& req, httplib::Response& res) {
             const std::string id = job_id(req);
             const std::optional<std::string> png = jobs.image(id);
             if (!png) throw RequestError(404, "no job '" + id + "'");
             if (png->empty()) throw RequestError(404, "job '" + id + "' has no picture yet");
             res.set_content(*png, "image/png");
           }));

  http.Delete(R"(/api/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = job_id(req);
    const std::optional<JobStatus> before = jobs.status(id);
    if (!before || !jobs.cancel(id)) throw RequestError(404, "no job '" + id + "'");
    const std::optional<JobStatus> after = jobs.status(id);
    JsonWriter j;
    j.begin_object().key("id").value(id).key("state");
    j.value(after ? job_state_name(after->state) : "deleted");
    j.key("cancel_requested").value(after && after->cancel_requested).end_object();
    send_json(res, 200, j.str());
  }));
}

}  // namespace nst::serve
