#include "io/npy.hpp"

#include <cstring>

#include "io/atomic_write.hpp"
#include "io/file_util.hpp"
#include "tensor/check.hpp"

namespace nst {

void save_npy(const std::string& path, const Tensor& t, const Shape& shape_in) {
  const Shape shape = shape_in.rank() ? shape_in : t.shape();
  NST_CHECK(shape.numel() == t.numel(), "save_npy '", path, "': shape ", shape.to_string(),
            " does not match ", t.numel(), " elements");
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.rank() > 1) dims.resize(dims.size() - 1);  // "(3, 4)" but "(3,)"
  if (shape.rank() > 1) dims.resize(dims.size() - 1);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + header length (2) + header, padded to 64 bytes, ending in \n.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  write_atomically(path, [&](FileSink& out) {
    out.write(bytes);
    out.write(t.data(), size_t(t.numel()) * sizeof(float));
  });
}

Tensor load_npy(const std::string& path) {
  const std::string bytes = read_file(path, "npy file");
  NST_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, "npy file '", path,
            "': not a .npy file");
  const size_t hlen = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
  NST_CHECK(bytes[6] == 1 && 10 + hlen <= bytes.size(), "npy file '", path,
            "': unsupported version or truncated header");
  const std::string header = bytes.substr(10, hlen);
  NST_CHECK(header.find("'descr': '<f4'") != std::string::npos &&
                header.find("'fortran_order': False") != std::string::npos,
            "npy file '", path, "': only little-endian float32 in C order is supported");
  const size_t open = header.find("'shape': (");
  NST_CHECK(open != std::string::npos, "npy file '", path, "': no shape");
  Shape shape;
  const char* p = header.c_str() + open + 10;
  while (*p && *p != ')') {
    char* end = nullptr;
    const long long d = std::strtoll(p, &end, 10);
    NST_CHECK(end != p && d >= 0, "npy file '", path, "': bad shape");
    NST_CHECK(shape.can_push_back(d), "npy file '", path, "': shape too large (",
              shape.to_string(), " then ", d, ")");
    shape.push_back(d);
    p = end;
    while (*p == ',' || *p == ' ') ++p;
  }
  NST_CHECK(bytes.size() - 10 - hlen == size_t(shape.numel()) * 4, "npy file '", path,
            "': data size does not match the shape ", shape.to_string());
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.data(), bytes.data() + 10 + hlen, size_t(t.numel()) * 4);
  return t;
}

}  // namespace nst
