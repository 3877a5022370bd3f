// Images in and out (PNG, JPEG, BMP, TGA, GIF, PNM through stb_image; PNG or
// JPEG out). In memory an image is a Tensor [1, 3, H, W] of RGB values in 0..255.
// Grey images are replicated to RGB; alpha is dropped; 16-bit images are
// reduced to 8 bits; paletted images are expanded.
#pragma once

#include <cstdint>
#include <string>

#include "io/atomic_write.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct ImageLimits {
  int64_t max_pixels = int64_t{1} << 28;  // 268 Mpx (16384 x 16384)
  int64_t max_side = 65535;
};

// Reads an image file. nst::Error names the file and the problem (missing,
// empty, not an image, truncated, dimensions beyond the limits) before
// decoding anything large: a header that claims 100000 x 100000 is refused.
// A JPEG comes out as viewers display it: its EXIF orientation is applied
// (io/exif.hpp), so H and W are the displayed ones. A corrupt or lying EXIF block
// is ignored with a warning naming the file (io/warning.hpp), never an error.
Tensor load_image(const std::string& path, const ImageLimits& limits = {});
Tensor load_image_from_memory(const std::string& bytes, const std::string& name,
                              const ImageLimits& limits = {});

// Writes [1, 3, H, W] (values clamped to 0..255 and rounded) as PNG or JPEG,
// chosen by the extension (.png, .jpg, .jpeg): encoded in memory, then written
// by write_atomically (the old file stays unless the new one is complete).
WrittenFile save_image(const std::string& path, const Tensor& rgb, int jpeg_quality = 95);

// Output size whose long side is `long_side`, keeping the aspect ratio (each side >= 1).
void fit_long_side(int64_t h, int64_t w, int64_t long_side, int64_t& out_h, int64_t& out_w);

// Antialiased bilinear resampling (a triangle filter widened by the scale factor
// when shrinking, so downsampling averages instead of aliasing). Same size: a copy.
Tensor resize_image(const Tensor& img, int64_t out_h, int64_t out_w);
// resize_image to fit_long_side's size (a copy when it already has that size).
Tensor resize_to_long_side(const Tensor& img, int64_t long_side);
// img itself when its long side is at most long_side, else resize_to_long_side.
Tensor shrink_to_long_side(const Tensor& img, int64_t long_side);

}  // namespace nst
