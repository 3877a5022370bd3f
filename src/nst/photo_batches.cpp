#include "nst/photo_batches.hpp"

#include <algorithm>
#include <filesystem>

#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/warning.hpp"
#include "optim/state_io.hpp"
#include "tensor/check.hpp"

namespace fs = std::filesystem;

namespace nst {

PhotoSet PhotoSet::scan(const std::string& folder) {
  std::error_code ec;
  NST_CHECK(fs::is_directory(folder, ec), "photos '", folder, "': not a folder",
            ec ? " (" + ec.message() + ")" : std::string());
  PhotoSet set;
  set.folder = folder;
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
  NST_CHECK(!ec, "photos '", folder, "': cannot list it (", ec.message(), ")");
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    NST_CHECK(!ec, "photos '", folder, "': listing failed (", ec.message(), ")");
    std::string ext = file_extension(it->path().string());
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    std::error_code fec;
    if ((ext == "jpg" || ext == "jpeg" || ext == "png") && it->is_regular_file(fec))
      set.paths.push_back(it->path().string());
  }
  NST_CHECK(!set.paths.empty(), "photos '", folder,
            "': no .jpg, .jpeg or .png file in it or its subfolders");
  std::sort(set.paths.begin(), set.paths.end());
  return set;
}

uint64_t PhotoSet::fingerprint() const {
  uint64_t h = kFnvOffset;
  for (const std::string& p : paths) {
    const std::string rel = fs::path(p).lexically_relative(folder).generic_string();
    h = fnv1a_update(h, rel.data(), rel.size() + 1);  // with the terminating 0 as separator
  }
  return h;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::vector<int64_t> pass_order(int64_t n, uint64_t seed, int64_t pass) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  uint64_t state = splitmix64(seed ^ splitmix64(uint64_t(pass) + 0x5eed));
  for (int64_t i = n - 1; i > 0; --i) {
    state = splitmix64(state);
    const auto j = int64_t(state % uint64_t(i + 1));  // modulo bias < 2^-40 for any real n
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  return order;
}

Tensor square_crop(const Tensor& photo, int64_t size, uint64_t pick) {
  const int64_t h = photo.h(), w = photo.w();
  // Short side to `size` (up or down), the long side in proportion, at least `size`.
  const int64_t rh = h <= w ? size : std::max(size, (h * size + w / 2) / w);
  const int64_t rw = h <= w ? std::max(size, (w * size + h / 2) / h) : size;
  const Tensor r = resize_image(photo, rh, rw);
  const int64_t top = int64_t((pick >> 32) % uint64_t(rh - size + 1));
  const int64_t left = int64_t((pick & 0xffffffffull) % uint64_t(rw - size + 1));
  Tensor out = Tensor::empty({1, 3, size, size});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < size; ++y)
      std::copy_n(r.data() + (c * rh + top + y) * rw + left, size,
                  out.data() + (c * size + y) * size);
  return out;
}

PhotoBatches::PhotoBatches(PhotoSet photos, BatchSpec spec)
    : photos_(std::move(photos)), spec_(spec) {
  NST_CHECK(spec_.size >= 1 && spec_.batch >= 1, "photo batches: bad size ", spec_.size,
            " or batch ", spec_.batch);
}

std::vector<std::string> PhotoBatches::skipped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_;
}

// The photo at `position`, or, when it cannot be read, the next readable one of
// the same pass (wrapping around within it).
Tensor PhotoBatches::crop_at(int64_t position, uint64_t pick) {
  const auto n = int64_t(photos_.paths.size());
  const int64_t pass = position / n;
  if (pass != order_pass_) {
    order_ = pass_order(n, spec_.seed, pass);
    order_pass_ = pass;
  }
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = order_[size_t((position % n + k) % n)];
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (bad_.count(index)) continue;
    }
    const std::string& path = photos_.paths[size_t(index)];
    try {
      return square_crop(load_image(path), spec_.size, pick);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      bad_.insert(index);
      skipped_.push_back(e.what());
      warn(str("skipping a training photo: ", e.what()));
    }
  }
  fail("photos '", photos_.folder, "': none of its ", n, " photos could be read");
}

Tensor PhotoBatches::batch(int64_t step) {
  const int64_t B = spec_.batch, S = spec_.size;
  Tensor out = Tensor::empty({B, 3, S, S});
  for (int64_t k = 0; k < B; ++k) {
    const int64_t position = step * B + k;
    const uint64_t pick = splitmix64(spec_.seed ^ splitmix64(uint64_t(position)));
    const Tensor crop = crop_at(position, pick);
    std::copy_n(crop.data(), crop.numel(), out.data() + k * crop.numel());
  }
  return out;
}

BatchPrefetcher::BatchPrefetcher(PhotoSet photos, BatchSpec spec)
    : batches_(std::move(photos), spec) {}

BatchPrefetcher::~BatchPrefetcher() { wait(); }

void BatchPrefetcher::wait() {
  if (worker_.joinable()) worker_.join();
}

void BatchPrefetcher::start(int64_t step) {
  pending_step_ = step;
  pending_ = Tensor();
  error_ = nullptr;
  worker_ = std::thread([this, step] {
    try {
      pending_ = batches_.batch(step);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

Tensor BatchPrefetcher::take(int64_t step) {
  wait();
  Tensor out;
  if (pending_step_ == step && !error_) {
    out = pending_;
  } else if (pending_step_ == step && error_) {
    std::rethrow_exception(error_);
  } else {
    out = batches_.batch(step);
  }
  pending_ = Tensor();
  start(step + 1);
  return out;
}

}  // namespace nst
