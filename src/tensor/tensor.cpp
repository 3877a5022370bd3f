#include "tensor/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "tensor/check.hpp"

namespace nst {

// ---------------------------------------------------------------- Shape

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::operator[](int i) const {
  NST_CHECK(i >= 0 && i < rank_, "Shape: index ", i, " out of range for ", to_string());
  return dims_[static_cast<size_t>(i)];
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

bool Shape::can_push_back(int64_t d) const {
  const int64_t n = numel();  // at most kMaxElements: checked by every push_back
  return rank_ < kMaxRank && d >= 0 && d <= kMaxElements && (n == 0 || d <= kMaxElements / n);
}

void Shape::push_back(int64_t d) {
  NST_CHECK(rank_ < kMaxRank, "Shape: more than ", kMaxRank, " dimensions");
  NST_CHECK(d >= 0, "Shape: negative dimension ", d);
  NST_CHECK(can_push_back(d), "Shape: ", to_string(), " and a dimension of ", d,
            " make more than 2^48 elements");
  dims_[static_cast<size_t>(rank_++)] = d;
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  return s + "]";
}

bool Shape::operator==(const Shape& o) const {
  return rank_ == o.rank_ && std::equal(begin(), end(), o.begin());
}

// ---------------------------------------------------------------- BufferPool

namespace {
constexpr size_t kAlign = 64;
// Largest tensor we agree to allocate: 16 Gi floats = 64 GiB. Beyond that a
// shape is certainly a mistake (or a lying header), not a real request.
constexpr int64_t kMaxAllocationFloats = int64_t{1} << 34;
}  // namespace

struct BufferPool::Impl {
  std::mutex mutex;
  std::map<int64_t, std::vector<float*>> idle;  // by capacity in floats
  int64_t fresh = 0;
  int64_t cached_bytes = 0;
  int64_t live_bytes = 0;
  int64_t peak_live_bytes = 0;

  ~Impl() {
    for (auto& [count, list] : idle)
      for (float* p : list) ::operator delete(p, std::align_val_t(kAlign));
  }
};

BufferPool::BufferPool() : impl_(std::make_shared<Impl>()) {}

BufferPool& BufferPool::global() {
  static BufferPool pool;
  return pool;
}

std::shared_ptr<float> BufferPool::acquire(int64_t count, Fit fit) {
  NST_CHECK(count >= 0 && count <= kMaxAllocationFloats, "Tensor: cannot allocate ", count,
            " floats (limit ", kMaxAllocationFloats, ")");
  int64_t n = std::max<int64_t>(count, 1);  // the buffer's capacity, once chosen
  float* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = fit == Fit::exact ? impl_->idle.find(n) : impl_->idle.lower_bound(n);
    if (it != impl_->idle.end()) {
      n = it->first;
      p = it->second.back();
      it->second.pop_back();
      if (it->second.empty()) impl_->idle.erase(it);
      impl_->cached_bytes -= n * static_cast<int64_t>(sizeof(float));
    }
  }
  const int64_t bytes = n * static_cast<int64_t>(sizeof(float));
  if (!p) {
    try {
      p = static_cast<float*>(::operator new(static_cast<size_t>(bytes), std::align_val_t(kAlign)));
    } catch (const std::bad_alloc&) {
      fail("Tensor: out of memory allocating ", bytes / (1024 * 1024), " MiB");
    }
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->fresh;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->live_bytes += bytes;
    impl_->peak_live_bytes = std::max(impl_->peak_live_bytes, impl_->live_bytes);
  }
  // The deleter holds the pool alive, so tensors outliving main() stay safe.
  std::shared_ptr<Impl> impl = impl_;
  return std::shared_ptr<float>(p, [impl, n, bytes](float* q) {
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->idle[n].push_back(q);
    impl->cached_bytes += bytes;
    impl->live_bytes -= bytes;
  });
}

void BufferPool::release_cached() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto& [count, list] : impl_->idle)
    for (float* p : list) ::operator delete(p, std::align_val_t(kAlign));
  impl_->idle.clear();
  impl_->cached_bytes = 0;
}

int64_t BufferPool::fresh_allocations() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->fresh;
}
int64_t BufferPool::cached_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->cached_bytes;
}
int64_t BufferPool::live_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->live_bytes;
}
int64_t BufferPool::peak_live_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->peak_live_bytes;
}

// ---------------------------------------------------------------- Tensor

Tensor Tensor::wrap(const Shape& shape, std::shared_ptr<float> storage) {
  Tensor t;
  t.shape_ = shape;
  t.storage_ = std::move(storage);
  t.data_ = t.storage_.get();
  return t;
}

Tensor Tensor::empty(const Shape& shape) {
  return wrap(shape, BufferPool::global().acquire(shape.numel()));
}

Tensor Tensor::scratch(int64_t floats) {
  return wrap(Shape{floats}, BufferPool::global().acquire(floats, BufferPool::Fit::at_least));
}

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.0f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::from(const Shape& shape, std::initializer_list<float> values) {
  NST_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from: ", values.size(),
            " values for shape ", shape.to_string());
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data_);
  return t;
}

float& Tensor::at(int64_t in, int64_t ic, int64_t ih, int64_t iw) {
  return data_[((in * c() + ic) * h() + ih) * w() + iw];
}
float Tensor::at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
  return data_[((in * c() + ic) * h() + ih) * w() + iw];
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  Tensor t = empty(shape_);
  std::memcpy(t.data_, data_, static_cast<size_t>(numel()) * sizeof(float));
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  NST_CHECK(shape.numel() == numel(), "reshape: ", shape_.to_string(), " has ", numel(),
            " elements, ", shape.to_string(), " has ", shape.numel());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

void Tensor::fill(float value) { std::fill(data_, data_ + numel(), value); }

void Tensor::copy_from(const Tensor& src) {
  NST_CHECK(src.numel() == numel(), "copy_from: ", src.shape().to_string(), " into ",
            shape_.to_string());
  std::memcpy(data_, src.data_, static_cast<size_t>(numel()) * sizeof(float));
}

}  // namespace nst
