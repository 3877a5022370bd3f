#include "nst/train_checkpoint.hpp"

#include <sstream>

#include "io/atomic_write.hpp"
#include "io/file_util.hpp"
#include "optim/state_io.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

constexpr char kMagic[9] = "NSTTRAIN";
// 2 (2026-12-07): each step record also holds its per-painting style terms
// (multi-style networks); version 1 files still load.
constexpr uint32_t kVersion = 2;

void write_string(StateWriter& w, const std::string& s) {
  w.value(uint64_t(s.size()));
  w.bytes(s.data(), s.size());
}

std::string read_string(StateReader& r, uint64_t limit, const char* field) {
  const auto n = r.value<uint64_t>();
  r.expect(n <= limit, field);
  std::string s(size_t(n), '\0');
  r.bytes(s.data(), s.size());
  return s;
}

}  // namespace

void save_train_checkpoint(const std::string& path, const TrainCheckpoint& c) {
  NST_CHECK(c.net && c.adam, "checkpoint '", path, "': no network or optimiser state to save");
  std::ostringstream out;
  StateWriter w(out, kMagic, kVersion);
  w.value(uint64_t(c.args.size()));
  for (const std::string& a : c.args) write_string(w, a);
  w.value(c.step);
  w.value(c.seconds);
  w.value(c.photos_fingerprint);
  w.value(uint64_t(c.steps.size()));
  for (const TrainStepRecord& s : c.steps) {
    w.value(s.step);
    w.value(s.terms.loss);
    w.value(s.terms.content);
    w.value(s.terms.style);
    w.value(s.terms.tv);
    w.value(s.seconds);
    w.value(uint64_t(s.terms.style_by_painting.size()));
    for (double v : s.terms.style_by_painting) w.value(v);
  }
  write_string(w, transformer_spec_json(c.net->spec()));
  for (const auto& [name, t] : c.net->params()) {
    write_string(w, name);
    w.value(uint64_t(t.numel()));
    w.bytes(t.data(), size_t(t.numel()) * sizeof(float));
  }
  w.finish("checkpoint");
  std::ostringstream adam;
  c.adam->save_state(adam);
  write_file_atomically(path, out.str() + adam.str());
}

TrainCheckpoint load_train_checkpoint(const std::string& path) {
  const std::string bytes = read_file(path, "checkpoint");
  const std::string what = "checkpoint '" + path + "'";
  std::istringstream in(bytes);
  TrainCheckpoint c;
  try {
    StateReader r(in, kMagic, 1, kVersion, what.c_str());
    const auto n_args = r.value<uint64_t>();
    r.expect(n_args <= 4096, "argument count");
    for (uint64_t i = 0; i < n_args; ++i) c.args.push_back(read_string(r, 1 << 16, "argument"));
    c.step = r.value<int64_t>();
    r.expect(c.step >= 0, "step");
    c.seconds = r.value<double>();
    c.photos_fingerprint = r.value<uint64_t>();
    const auto n_steps = r.value<uint64_t>();
    r.expect(n_steps <= uint64_t(c.step), "step records");
    for (uint64_t i = 0; i < n_steps; ++i) {
      TrainStepRecord s;
      s.step = r.value<int64_t>();
      s.terms.loss = r.value<double>();
      s.terms.content = r.value<double>();
      s.terms.style = r.value<double>();
      s.terms.tv = r.value<double>();
      s.seconds = r.value<double>();
      if (r.version() >= 2) {
        const auto paintings = r.value<uint64_t>();
        r.expect(paintings <= uint64_t(kMaxStyles), "paintings of a step record");
        for (uint64_t k = 0; k < paintings; ++k) s.terms.style_by_painting.push_back(r.value<double>());
      }
      c.steps.push_back(s);
    }
    const TransformerSpec spec = parse_transformer_spec(read_string(r, 1 << 24, "network"), path);
    std::map<std::string, Tensor> params;
    // The tensors come in name order as flat runs (the spec lists them in
    // layer order); each gets its shape from the spec below.
    const std::vector<ParamShape> shapes = transformer_param_shapes(spec);
    for (size_t i = 0; i < shapes.size(); ++i) {
      const std::string name = read_string(r, 4096, "tensor name");
      const auto n = r.value<uint64_t>();
      r.expect(n <= (uint64_t(1) << 32), "tensor size");
      Tensor t = Tensor::empty({int64_t(n)});
      r.bytes(t.data(), size_t(n) * sizeof(float));
      params.emplace(name, t);
    }
    r.finish();
    std::map<std::string, Tensor> shaped;
    for (const ParamShape& p : shapes) {
      const auto it = params.find(p.name);
      NST_CHECK(it != params.end(), what, ": tensor ", p.name, " is missing (corrupt checkpoint)");
      const Shape shape(p.shape.begin(), p.shape.end());
      NST_CHECK(it->second.numel() == shape.numel(), what, ": tensor ", p.name,
                " has the wrong size (corrupt checkpoint)");
      shaped.emplace(p.name, it->second.reshape(shape));
    }
    c.net.emplace(spec, std::move(shaped), Transformer::rgb255(), what);
    c.adam.emplace(*c.net, AdamOptions{});
    c.adam->load_state(in);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(what, 0) == 0) throw;
    fail(what, ": ", msg);
  }
  return c;
}

}  // namespace nst
