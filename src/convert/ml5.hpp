// Conversion of the ml5.js fast-style-transfer checkpoints (Engstrom's
// fast-style-transfer weights, as in ../shared/models/fast-style/<style>/) into
// an .nstw model file with its network description (what `nst convert --from
// ml5` and `make models` run).
//
// A folder holds manifest.json, {"Variable_K": {"filename": F, "shape": [...]}, ...},
// and one raw little-endian float32 file per variable. Variable_K with K = 0
// ("Variable"), 1, 2, ... in the order of the network (../shared/README.md):
// for the layer whose conv kernel is Variable_id, Variable_{id+1} is its
// instance norm's shift and Variable_{id+2} its scale. Kernels are HWIO
// [k][k][in][out]; the two transposed convs' are [k][k][out][in].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/transformer.hpp"

namespace nst::io {

struct Ml5Variable {
  int index = 0;         // K of Variable_K (0 for "Variable")
  std::string filename;  // a plain file name inside the folder
  std::vector<int64_t> shape;
};

// Parses manifest.json's text (`source` names it in errors): every entry named
// Variable or Variable_K, a plain file name (no '/', no ".."), a shape of 1 to
// 4 dims each 1..65536, the indices 0..count-1 each once. Sorted by index.
std::vector<Ml5Variable> parse_ml5_manifest(const std::string& text, const std::string& source);

// The network a manifest describes: the Johnson transformer whose width and
// number of residual blocks the variables' count and shapes give, each
// variable checked against the shape that network needs.
TransformerSpec ml5_network(const std::vector<Ml5Variable>& vars, const std::string& source);

// The network from the variables' values (data[k] = Variable_k, row-major in
// its ml5 shape): kernels permuted to our layouts (weights/FORMAT.md).
Transformer ml5_transformer(const std::vector<Ml5Variable>& vars,
                            const std::vector<std::vector<float>>& data, const std::string& source);

// Reads a folder (every data file's size checked against its shape) into a
// network; `checksum` gets "sha256:<hex>" of manifest.json followed by the
// data files in index order.
Transformer read_ml5(const std::string& dir, std::string* checksum = nullptr);

struct Ml5Summary {
  int64_t width = 0, residual_blocks = 0;
  size_t tensors = 0;
  std::string source_checksum;
};
// read_ml5 + Transformer::save (atomic).
Ml5Summary convert_ml5(const std::string& dir, const std::string& output);

}  // namespace nst::io
