// Synthetic photos for the training tests.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>

#include "io/image.hpp"
#include "tensor/tensor.hpp"

namespace nst::testing {

// A smooth synthetic photo (sums of sinusoids): features a VGG responds to.
inline Tensor smooth_photo(int64_t h, int64_t w, uint64_t seed) {
  Tensor t = Tensor::empty({1, 3, h, w});
  const double f1 = 0.05 + 0.01 * double(seed % 7), f2 = 0.11 + 0.02 * double(seed % 5);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        t[(c * h + y) * w + x] = float(127.5 + 60 * std::sin(f1 * double(x) + double(c + seed)) +
                                       50 * std::cos(f2 * double(y) - double(c)));
  return t;
}

inline void write_photos(const std::string& dir, int count, int64_t h, int64_t w) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < count; ++i)
    save_image(dir + "/p" + std::to_string(i) + ".png", smooth_photo(h, w, uint64_t(i)));
}

}  // namespace nst::testing
