// nst::Tensor — a contiguous float32 array with a shape (rank 0..5), NCHW for
// images and feature maps, OIHW for convolution weights.
//
// Storage is 64-byte aligned and comes from a process-wide BufferPool: when the
// last Tensor using a buffer goes away the buffer returns to the pool, and the
// next request of the same size reuses it. After the first iteration of an
// optimisation loop every tensor it needs is served from the pool, so the
// steady state does not call the allocator.
//
// A Tensor is a cheap handle (shared ownership): copying it shares the data.
// Use clone() for a deep copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

namespace nst {

class Shape {
 public:
  static constexpr int kMaxRank = 5;
  // At most 2^48 elements (a petabyte of floats): every byte count computed from
  // a shape (numel * 8 and less) then fits in 64 bits, whatever a file claims.
  static constexpr int64_t kMaxElements = int64_t{1} << 48;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  template <class It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const;
  int64_t numel() const;
  void push_back(int64_t d);  // throws unless can_push_back(d)
  // One more dimension d (>= 0) keeps the shape within kMaxRank dimensions and
  // kMaxElements elements.
  bool can_push_back(int64_t d) const;
  std::string to_string() const;  // "[1, 3, 224, 224]"

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage, defined() is false

  static Tensor empty(const Shape& shape);  // uninitialised values
  // Uninitialised scratch for the length of a call: served by the smallest idle
  // buffer that holds it, whatever that buffer's size (an activation's buffer
  // that waits for the next evaluation serves a convolution's workspace), so
  // scratch adds no sizes of its own to the pool. For short-lived buffers only:
  // a small tensor kept in a large buffer would hold that buffer's memory.
  static Tensor scratch(int64_t floats);
  static Tensor zeros(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from(const Shape& shape, std::initializer_list<float> values);

  bool defined() const { return data_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }

  float* data() { return data_; }
  const float* data() const { return data_; }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }

  // NCHW accessors for rank-4 tensors.
  int64_t n() const { return shape_[0]; }
  int64_t c() const { return shape_[1]; }
  int64_t h() const { return shape_[2]; }
  int64_t w() const { return shape_[3]; }
  float& at(int64_t n, int64_t c, int64_t h, int64_t w);
  float at(int64_t n, int64_t c, int64_t h, int64_t w) const;

  Tensor clone() const;
  // Same data, another shape with the same number of elements.
  Tensor reshape(const Shape& shape) const;
  void fill(float value);
  void zero() { fill(0.0f); }
  void copy_from(const Tensor& src);  // shapes must have the same numel

 private:
  static Tensor wrap(const Shape& shape, std::shared_ptr<float> storage);

  Shape shape_;
  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
};

// Process-wide pool of 64-byte aligned float buffers, reused by exact size
// (or, for scratch, by the smallest idle buffer at least that large). On
// Linux, buffers of huge_page_bytes() or more are mapped 2 MiB aligned and
// marked for transparent huge pages (not under AddressSanitizer).
class BufferPool {
 public:
  static BufferPool& global();
  // The size from which buffers get huge pages; 0 where they never do.
  static int64_t huge_page_bytes();

  enum class Fit { exact, at_least };
  std::shared_ptr<float> acquire(int64_t count, Fit fit = Fit::exact);
  void release_cached();  // frees every idle buffer

  // Buffers obtained from the system allocator since the start (never from reuse).
  int64_t fresh_allocations() const;
  int64_t cached_bytes() const;
  int64_t live_bytes() const;
  int64_t peak_live_bytes() const;

 private:
  struct Impl;
  BufferPool();
  std::shared_ptr<Impl> impl_;
};

}  // namespace nst
