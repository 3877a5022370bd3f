// The description of a feed-forward style network (Johnson et al. 2016), as
// stored in its model file (weights/FORMAT.md, "Network description"): the
// layers in order, each with its kernel, stride, channels, normalisation and
// activation, and the output transform. The code that runs a network reads
// everything from here, so a network of another width, depth or norm loads
// without code changes.
//
//   {"kind": "feed-forward", "input_channels": 3,
//    "layers": [
//      {"op": "conv", "name": "conv1", "in": 3, "out": 32, "kernel": 9, "stride": 1,
//       "bias": false, "norm": "instance", "eps": 0.001, "relu": true},
//      {"op": "residual", "name": "res1", "layers": [ ...two convs... ]},
//      {"op": "conv_transpose", "name": "up1", "in": 128, "out": 64, "kernel": 3, "stride": 2,
//       "bias": false, "norm": "instance", "eps": 0.001, "relu": true}, ...],
//    "output": {"op": "tanh", "scale": 150, "offset": 127.5, "min": 0, "max": 255},
//    "styles": ["la_muse", "wave"]}
//
// "styles" (optional) makes a multi-style network with conditional instance
// norm (Dumoulin et al. 2017): every norm keeps one row of scales and shifts
// per style, the convolutions are shared. Without it the network has one style
// and its norm tensors are plain [out] vectors, as in every single-style file.
//
// Tensors of a layer called NAME: NAME.weight (conv: [out][in][k][k]; conv_transpose:
// [in][out][k][k], PyTorch's layouts), NAME.bias [out] when "bias", and for an
// instance norm NAME.norm.scale and NAME.norm.shift [out] ([S][out] with S
// "styles"). Padding is TensorFlow
// "SAME" for every layer: a stride-s conv gives ceil(H / s) rows, a stride-s
// transposed conv exactly H * s; a conv with "padding": "reflect" fills that
// border with the picture mirrored instead of zeros, and one with "upsample": u
// first repeats every pixel u x u times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nst {

enum class LayerOp { conv, conv_transpose, residual };
enum class NormKind { none, instance };
// How a conv fills the border its "SAME" geometry reads outside the picture:
// zeros (the published nets) or the picture mirrored (reflect, nn/pad.hpp).
enum class Padding { zero, reflect };
// How the published architecture doubles the resolution back: stride-2
// transposed convs, or nearest-neighbour upsampling then a stride-1 conv
// (resize-convolution, nn/upsample.hpp: no built-in grid pattern).
enum class Upsampling { transposed, nearest };

struct LayerSpec {
  LayerOp op = LayerOp::conv;
  std::string name;
  // conv and conv_transpose:
  int64_t in = 0, out = 0, kernel = 0, stride = 1;
  bool bias = false;
  NormKind norm = NormKind::none;
  float eps = 1e-3f;
  bool relu = false;
  Padding padding = Padding::zero;  // conv only ("padding" in the file; absent: zero)
  int64_t upsample = 1;  // conv only: nearest-neighbour upsampling by this factor first
  // residual: x + body(x); the body's first layer takes and its last gives as
  // many channels as x has.
  std::vector<LayerSpec> body;
};

// What turns the last layer's output into pixels: scale * tanh(x) + offset
// ("tanh") or scale * x + offset ("affine"), then clipped to [min, max] when the
// picture is written.
struct OutputSpec {
  enum class Kind { tanh, affine } kind = Kind::tanh;
  float scale = 150.0f, offset = 127.5f;
  float min = 0.0f, max = 255.0f;
};

struct TransformerSpec {
  int64_t input_channels = 3;
  std::vector<LayerSpec> layers;
  OutputSpec output;
  // The style names of a conditional (multi-style) network, in table order;
  // empty: a single-style network with [out] norm tensors.
  std::vector<std::string> styles;
  // Styles the network paints: styles.size(), or 1.
  int64_t style_count() const { return styles.empty() ? 1 : int64_t(styles.size()); }
};

// At most this many styles in one network (Magenta's largest has 32).
constexpr int64_t kMaxStyles = 1024;

// JSON text <-> spec. parse checks everything a network needs (known ops and
// norms, channel counts that chain, residual bodies that keep the channel
// count, kernel 1..31, stride 1..8, unique names, nesting one level deep) and
// throws nst::Error naming `source` and the layer.
TransformerSpec parse_transformer_spec(const std::string& json, const std::string& source);
std::string transformer_spec_json(const TransformerSpec& spec);

// The tensors a spec needs: {name, shape} in layer order.
struct ParamShape {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<ParamShape> transformer_param_shapes(const TransformerSpec& spec);

// The published architecture at a given width w (32 for the released nets):
// conv 9x9 3->w, conv 3x3 s2 w->2w, conv 3x3 s2 2w->4w, five residual blocks
// of two 3x3 convs at 4w, transposed conv 3x3 s2 4w->2w and 2w->w, conv 9x9
// w->3 (instance norm everywhere, eps 1e-3, ReLU but in the residual blocks'
// second conv and the last conv), 150 tanh(x) + 127.5.
// padding: of every conv (not the transposed ones); upsampling: the two layers
// that double the resolution. nst train makes reflect + transposed networks.
TransformerSpec johnson_transformer(int64_t width, int64_t residual_blocks = 5,
                                    Padding padding = Padding::zero,
                                    Upsampling upsampling = Upsampling::transposed);

// Multiply-adds of one forward pass at H x W (for GFLOP/s figures).
double transformer_macs(const TransformerSpec& spec, int64_t H, int64_t W);

}  // namespace nst
