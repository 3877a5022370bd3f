// NumPy .npy files (format version 1.0), float32 little-endian, C order, so
// anyone can audit a tensor with numpy.load.
#pragma once

#include <string>

#include "tensor/tensor.hpp"

namespace nst {

// Writes t with the given shape (default: its own) atomically.
void save_npy(const std::string& path, const Tensor& t, const Shape& shape = Shape());
// Reads a float32 .npy file (little-endian, C order); nst::Error on anything else.
Tensor load_npy(const std::string& path);

}  // namespace nst
