// Writes the binary seeds of fuzz/corpus (weights, npy, checkpoint, model, ml5) through the
// library's own writers. Not part of the build; from the repository root:
//   g++ -std=c++20 -Isrc fuzz/make_seeds.cpp build/libnstlib.a -ltbb -lpthread -o build/make_seeds
//   build/make_seeds fuzz/corpus
// The model seeds (model/*: .nstw models and network descriptions; ml5/*: ml5
// manifests of a width-2 network) come from write_model_seeds below; the real
// ml5 manifest (ml5/la_muse.json) is a copy of ../shared, la_muse_*.json and
// not_json.txt hand edits of it. The text seeds (args, json, tfjs) and the
// images are written by hand, the JPEGs
// with EXIF blocks (image/exif_*.jpg) by tests/data/exif/make_exif_jpegs.py; the
// .pth seeds are copies of tests/data.
#include <sstream>

#include <fstream>

#include "io/npy.hpp"
#include "io/weights.hpp"
#include "models/transformer.hpp"
#include "optim/adam.hpp"
#include "nst/checkpoint.hpp"
#include "optim/lbfgs.hpp"
namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A network with small deterministic weights: unit norm scales, zero shifts.
nst::Transformer seed_network(const nst::TransformerSpec& spec) {
  std::map<std::string, nst::Tensor> params;
  for (const nst::ParamShape& p : nst::transformer_param_shapes(spec)) {
    nst::Tensor t = nst::Tensor::empty(nst::Shape(p.shape.begin(), p.shape.end()));
    const bool scale = p.name.ends_with(".norm.scale"), shift = p.name.ends_with(".norm.shift");
    for (int64_t i = 0; i < t.numel(); ++i)
      t[i] = scale ? 1.0f : shift ? 0.0f : float((i * 37) % 17 - 8) * 0.02f;
    params.emplace(p.name, t);
  }
  return nst::Transformer(spec, std::move(params));
}

// model/: johnson_transformer(1, 1) saved (8.5 KB) and its first half; a
// two-layer net with biases, no norms and an affine output; a VGG-like version-1
// file; both descriptions as JSON text. ml5/: manifests of johnson_transformer(2, 1)
// (with a NUL and 64 bytes that fill its Variable files), one with a wrong shape
// and one with a "../" file name.
void write_model_seeds(const std::string& dir) {
  const nst::TransformerSpec johnson = nst::johnson_transformer(1, 1);
  seed_network(johnson).save(dir + "/model/johnson_w1.nstw", "seed", "");
  std::ifstream in(dir + "/model/johnson_w1.nstw", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  write_text(dir + "/model/johnson_w1_truncated.nstw", bytes.substr(0, bytes.size() / 2));
  write_text(dir + "/model/johnson_w1.json", nst::transformer_spec_json(johnson));

  nst::TransformerSpec small;
  nst::LayerSpec down;
  down.name = "down";
  down.in = 3;
  down.out = 2;
  down.kernel = 3;
  down.stride = 2;
  down.bias = true;
  down.relu = true;
  nst::LayerSpec up = down;
  up.op = nst::LayerOp::conv_transpose;
  up.name = "up";
  up.in = 2;
  up.out = 3;
  up.relu = false;
  small.layers = {down, up};
  small.output.kind = nst::OutputSpec::Kind::affine;
  small.output.scale = 2.0f;
  small.output.offset = 10.0f;
  seed_network(small).save(dir + "/model/two_layers.nstw", "seed", "");
  write_text(dir + "/model/two_layers.json", nst::transformer_spec_json(small));

  nst::io::WeightMetadata vgg;
  vgg.input = nst::io::caffe_convention();
  vgg.source = "seed";
  nst::Tensor w = nst::Tensor::empty({4, 3, 3, 3}), b = nst::Tensor::empty({4});
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = float(i % 9) * 0.1f;
  for (int64_t i = 0; i < b.numel(); ++i) b[i] = float(i);
  nst::io::write_weight_file(dir + "/model/vgg_like_v1.nstw", vgg,
                             {nst::io::make_float_entry("conv1_1.weight", w),
                              nst::io::make_float_entry("conv1_1.bias", b)});

  // ml5: Variable_K in network order, kernels HWIO, transposed convs [k][k][out][in].
  std::vector<std::vector<int64_t>> shapes;
  auto layer = [&](const nst::LayerSpec& L) {
    if (L.op == nst::LayerOp::conv)
      shapes.push_back({L.kernel, L.kernel, L.in, L.out});
    else
      shapes.push_back({L.kernel, L.kernel, L.out, L.in});
    shapes.push_back({L.out});
    shapes.push_back({L.out});
  };
  for (const nst::LayerSpec& L : nst::johnson_transformer(2, 1).layers) {
    if (L.op != nst::LayerOp::residual) layer(L);
    for (const nst::LayerSpec& l : L.body) layer(l);
  }
  auto manifest = [&](size_t bad_shape, size_t bad_name) {
    std::string m = "{";
    for (size_t k = 0; k < shapes.size(); ++k) {
      const std::string name = k == 0 ? "Variable" : "Variable_" + std::to_string(k);
      m += (k ? ",\n" : "\n") + std::string(" \"") + name + "\": {\"filename\": \"" +
           (k == bad_name ? "../" : "") + name + "\", \"shape\": [";
      for (size_t d = 0; d < shapes[k].size(); ++d)
        m += (d ? ", " : "") + std::to_string(shapes[k][d] + (k == bad_shape && d == 0));
      m += "]}";
    }
    return m + "\n}\n";
  };
  std::string fill(1, '\0');
  // Small floats; the first byte (0xff) picks no file to cut short.
  for (int i = 0; i < 64; ++i) fill += char(i == 0 ? 0xff : i % 2 ? 0x3c : 0x0a);
  write_text(dir + "/ml5/width2.json", manifest(size_t(-1), size_t(-1)) + fill);
  write_text(dir + "/ml5/width2_bad_shape.json", manifest(6, size_t(-1)));
  write_text(dir + "/ml5/width2_dotdot.json", manifest(size_t(-1), 5));
}

}  // namespace

int main(int, char** argv) {
  const std::string dir = argv[1];
  write_model_seeds(dir);
  nst::Tensor a = nst::Tensor::empty({2, 3, 3, 3}), b = nst::Tensor::empty({2});
  for (int64_t i = 0; i < a.numel(); ++i) a[i] = float(i) * 0.1f - 1.0f;
  b[0] = 0.5f;
  b[1] = -0.25f;
  std::vector<uint8_t> q(8 * 5);
  for (size_t i = 0; i < q.size(); ++i) q[i] = uint8_t(i * 7);
  nst::io::WeightMetadata meta;
  meta.input = nst::io::caffe_convention();
  meta.source = "seed";
  nst::io::write_weight_file(
      dir + "/weights/small", meta,
      {nst::io::make_float_entry("conv1_1.weight", a), nst::io::make_float_entry("conv1_1.bias", b),
       nst::io::make_uint8_entry("fc6.weight", {8, 5}, q.data(), 0.5, -50)});
  nst::save_npy(dir + "/npy/a.npy", a);
  nst::save_npy(dir + "/npy/b.npy", b);
  nst::save_npy(dir + "/npy/scalar_shape.npy", b, {1, 2});
  // Checkpoints with an L-BFGS and an Adam state on a [1, 3, 2, 2] image.
  nst::Checkpoint c;
  c.args = {"--content", "c.jpg", "--style", "s.jpg", "--size", "2", "--scales", "1,2"};
  c.state.scale = 1;
  c.state.iteration = 2;
  c.state.done = 5;
  nst::ScaleRecord r;
  r.height = 1;
  r.width = 1;
  r.iterations = 3;
  r.evaluations = 3;
  r.stop_reason = "iterations done";
  r.loss_trace = {3, 2, 1};
  c.state.scales = {r, r};
  c.state.x = nst::Tensor::empty({1, 3, 2, 2});
  for (int64_t i = 0; i < 12; ++i) c.state.x[i] = float(i);
  nst::LbfgsOptions lo;
  lo.history = 2;
  lo.max_iterations = 10;
  nst::LbfgsState ls(12, lo);
  ls.iteration = 2;
  ls.evaluated = true;
  ls.g.assign(12, 0.5f);
  ls.s = {std::vector<float>(12, 1.0f)};
  ls.y = {std::vector<float>(12, 2.0f)};
  ls.rho = {1.0 / 24};
  std::ostringstream o1;
  ls.save_state(o1);
  c.state.optimizer_state = o1.str();
  nst::save_checkpoint(dir + "/checkpoint/lbfgs.ckpt", c);
  nst::AdamState as(12, nst::AdamOptions());
  std::ostringstream o2;
  as.save_state(o2);
  c.state.optimizer_state = o2.str();
  nst::save_checkpoint(dir + "/checkpoint/adam.ckpt", c);
  // Format 3's fields: the input files' checksums and --average's running image.
  c.inputs = {{"photo.jpg", 0x0123456789abcdefULL}, {"left.png", 42}};
  c.state.average = c.state.x.clone();
  c.state.average_steps = 2;
  nst::save_checkpoint(dir + "/checkpoint/masks_average.ckpt", c);
  return 0;
}
