// nst serve: pictures in memory. Uploads are decoded from the request's bytes
// (nst::load_image_from_memory: the CLI's checks and messages) and answers are
// encoded in memory; no upload ever touches the disk.
#pragma once

#include <cstdint>
#include <string>

#include "tensor/tensor.hpp"
#include "tools/serve_request.hpp"

namespace nst::serve {

// An uploaded picture: 400 with the CLI's message (not an image, truncated, a
// header claiming more than max_pixels) naming the upload by `name`.
Tensor decode_upload(const std::string& bytes, const std::string& name, int64_t max_pixels);

// [1, 3, H, W] RGB 0..255 (clamped, rounded) as PNG or JPEG (quality 90) bytes.
std::string encode_image(const Tensor& rgb, ImageFormat format);

// The built-in sample the style thumbnails are painted from: a small landscape
// (sky, sun, hills, a house) drawn from a few shapes, side x side pixels.
Tensor sample_picture(int64_t side);

}  // namespace nst::serve
