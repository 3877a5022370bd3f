// Writes the binary seeds of fuzz/corpus (weights, npy, checkpoint) through the
// library's own writers. Not part of the build; from the repository root:
//   g++ -std=c++20 -Isrc fuzz/make_seeds.cpp build/libnstlib.a -ltbb -lpthread -o build/make_seeds
//   build/make_seeds fuzz/corpus
// The text seeds (args, json, tfjs) and the images are written by hand, the JPEGs
// with EXIF blocks (image/exif_*.jpg) by tests/data/exif/make_exif_jpegs.py; the
// .pth seeds are copies of tests/data.
#include <sstream>

#include "io/npy.hpp"
#include "io/weights.hpp"
#include "optim/adam.hpp"
#include "nst/checkpoint.hpp"
#include "optim/lbfgs.hpp"
int main(int, char** argv) {
  const std::string dir = argv[1];
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
  return 0;
}
