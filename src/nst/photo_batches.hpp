// Training photos for a feed-forward style network (Johnson et al. 2016 train
// on COCO): every JPEG / PNG under a folder, served as batches of random
// square crops, the next batch decoded on a thread of its own while the
// current training step computes.
//
//   PhotoSet photos = PhotoSet::scan("photos/");           // recursive, sorted
//   BatchPrefetcher batches(photos, {.size = 256, .batch = 4, .seed = 1});
//   Tensor x = batches.take(step);                         // [4, 3, 256, 256], RGB 0..255
//
// What batch `step` holds depends only on (the photo list, size, batch, seed,
// step): photo positions step*B .. step*B+B-1 of an endless sequence of
// shuffled passes over the list (each pass its own seeded permutation), each
// photo resized so its short side is `size` and cropped at a seeded position.
// No state is carried from one batch to the next, so a resumed run sees the
// batches an uninterrupted one would. A photo that cannot be read is reported
// once (nst::warn) and replaced by the next readable one of the same pass.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tensor/tensor.hpp"

namespace nst {

struct PhotoSet {
  std::string folder;
  std::vector<std::string> paths;  // sorted
  // Every .jpg / .jpeg / .png file under `folder` (recursive, extension in any
  // case). nst::Error when the folder is missing or holds no such file.
  static PhotoSet scan(const std::string& folder);
  // FNV-1a of the paths relative to the folder: tells a resumed run whether it
  // sees the same photos.
  uint64_t fingerprint() const;
};

struct BatchSpec {
  int64_t size = 256;   // crop side, px
  int64_t batch = 4;
  uint64_t seed = 1;
};

// splitmix64 (Steele, Lea & Flood 2014): the hash behind every random choice
// of training, so they depend on their inputs only.
uint64_t splitmix64(uint64_t x);

// The order of pass `pass` over n photos: a Fisher-Yates shuffle driven by
// splitmix64(seed, pass). Position p of the endless sequence is photo
// pass_order(n, seed, p / n)[p % n].
std::vector<int64_t> pass_order(int64_t n, uint64_t seed, int64_t pass);

// A photo (short side = size) and cropped to size x size at the
// offset `pick` selects: [1, 3, size, size].
Tensor square_crop(const Tensor& photo, int64_t size, uint64_t pick);

class PhotoBatches {
 public:
  PhotoBatches(PhotoSet photos, BatchSpec spec);
  // Batch `step` ([B, 3, size, size], RGB 0..255). nst::Error when no photo of
  // the set can be read.
  Tensor batch(int64_t step);
  const PhotoSet& photos() const { return photos_; }
  const BatchSpec& spec() const { return spec_; }
  // Photos that could not be read so far, with the reason.
  std::vector<std::string> skipped() const;

 private:
  Tensor crop_at(int64_t position, uint64_t pick);
  PhotoSet photos_;
  BatchSpec spec_;
  int64_t order_pass_ = -1;  // the pass whose order is cached
  std::vector<int64_t> order_;
  mutable std::mutex mutex_;  // bad_ and skipped_ (skipped() may be called from another thread)
  std::set<int64_t> bad_;
  std::vector<std::string> skipped_;
};

// Computes batch step + 1 on its own thread while the caller trains on batch
// `step`. take(s) returns batch s (computing it now if it was not prefetched)
// and starts on s + 1. An error in the background is rethrown by take().
class BatchPrefetcher {
 public:
  BatchPrefetcher(PhotoSet photos, BatchSpec spec);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;
  Tensor take(int64_t step);
  PhotoBatches& source() { return batches_; }

 private:
  void start(int64_t step);
  void wait();
  PhotoBatches batches_;
  std::thread worker_;
  int64_t pending_step_ = -1;
  Tensor pending_;
  std::exception_ptr error_;
};

}  // namespace nst
