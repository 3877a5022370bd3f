// Reader of PyTorch checkpoints holding a state_dict (name -> float32 tensor):
//   - the zip format of torch.save since 1.6: PREFIX/data.pkl (pickle protocol 2)
//     and PREFIX/data/KEY (raw little-endian storages), entries STORED;
//   - the legacy format (before 1.6): five pickles in a row (magic number,
//     protocol 1001, system info, the state_dict, the storage keys), then each
//     storage as an int64 element count followed by its bytes.
// Anything else (other dtypes, compressed entries, arbitrary pickled objects) is
// rejected with an nst::Error naming the file and the reason.
#pragma once

#include <string>
#include <vector>

#include "io/weights.hpp"

namespace nst::io {

struct PthStateDict {
  std::string source;                // the file path
  std::string sha256;                // of the whole file
  std::vector<WeightEntry> tensors;  // float32, in the dict's order
};

PthStateDict read_pth(const std::string& path);

// torchvision VGG-19 keys -> our names: the k-th conv weight/bias among
// features.N (in N order) -> conv layer k (conv1_1 .. conv5_4), and classifier.N
// (N order) -> fc6, fc7, fc8. The layouts are already ours (OIHW, [out][in],
// fc6 input in C, H, W order). Needs exactly 16 convs and 0 or 3 fc layers;
// shapes are only checked on load, so tiny VGG-shaped nets convert too.
std::vector<WeightEntry> vgg19_from_pth(const PthStateDict& dict);

}  // namespace nst::io
