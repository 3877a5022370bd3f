#include "tensor/tensor.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

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

// Buffers of at least one huge page are mapped on their own, 2 MiB aligned,
// and their whole 2 MiB pages marked for transparent huge pages. A 1024 px
// feed-forward pass touches ~370 MB of fresh activations; faulted in 4 KiB at
// a time that is ~94 000 page faults, half of the pass on the 2-core VMs (see
// docs/performance.md); with 2 MiB pages it is a few hundred. The tail after the last whole huge page
// keeps 4 KiB pages, so the resident size grows by what is touched, as before.
// (THP is "madvise" on Debian: only marked ranges get huge pages.)
// Under AddressSanitizer every buffer goes through operator new, which ASan
// guards with red zones; a bare mapping would hide overruns from it.
#if defined(__SANITIZE_ADDRESS__)
#define NST_NO_HUGE_BUFFERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NST_NO_HUGE_BUFFERS 1
#endif
#endif
constexpr size_t kHugePage = size_t{2} << 20;
#if defined(__linux__) && defined(MADV_HUGEPAGE) && !defined(NST_NO_HUGE_BUFFERS)
bool is_huge(size_t bytes) { return bytes >= kHugePage; }
// The length the kernel maps for `bytes`: whole base pages (4 KiB on x86-64,
// 4, 16 or 64 KiB on aarch64).
size_t mapped_length(size_t bytes) {
  static const size_t page = [] {
    const long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? size_t(p) : size_t{4096};
  }();
  return (bytes + page - 1) / page * page;
}

// Maps the buffer with one huge page to spare, then unmaps the head and tail
// that keep the rest 2 MiB aligned. Null when the kernel refuses the mapping.
float* map_huge(size_t bytes) {
  const size_t length = mapped_length(bytes);
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + length + kHugePage;
  if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);  // a hint: works without it too
  return static_cast<float*>(p);
}
void unmap_huge(float* p, size_t bytes) { munmap(p, mapped_length(bytes)); }
#else
bool is_huge(size_t) { return false; }
float* map_huge(size_t) { return nullptr; }
void unmap_huge(float*, size_t) {}
#endif

// A buffer of `bytes` (64-byte aligned at least); throws std::bad_alloc.
float* allocate_buffer(size_t bytes) {
  if (is_huge(bytes)) {
    if (float* p = map_huge(bytes)) return p;
    throw std::bad_alloc();
  }
  return static_cast<float*>(::operator new(bytes, std::align_val_t(kAlign)));
}

void free_buffer(float* p, size_t bytes) {
  if (is_huge(bytes))
    unmap_huge(p, bytes);
  else
    ::operator delete(p, std::align_val_t(kAlign));
}
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
      for (float* p : list) free_buffer(p, static_cast<size_t>(count) * sizeof(float));
  }
};

BufferPool::BufferPool() : impl_(std::make_shared<Impl>()) {}

int64_t BufferPool::huge_page_bytes() { return is_huge(kHugePage) ? int64_t(kHugePage) : 0; }

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
      p = allocate_buffer(static_cast<size_t>(bytes));
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
    for (float* p : list) free_buffer(p, static_cast<size_t>(count) * sizeof(float));
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
