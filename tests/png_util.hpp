// Hand-built PNG files for the image-loading tests: 16-bit, paletted, and a
// header that lies about the size (stb_image_write writes none of these).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace nst::testing {

// PNG (RFC 2083) = signature, then chunks: u32 length (big-endian), type, data,
// CRC-32 of type + data. Image data = zlib stream; stored (uncompressed) deflate
// blocks are enough here.

inline void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += char((v >> (8 * i)) & 0xff);
}

inline uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

inline std::string png_chunk(const std::string& type, const std::string& data) {
  std::string s;
  put_be32(s, uint32_t(data.size()));
  s += type + data;
  put_be32(s, crc32(type + data));
  return s;
}

// zlib stream of `raw` in stored deflate blocks (at most 65535 bytes each), Adler-32 at the end.
inline std::string zlib_stored(const std::string& raw) {
  std::string z("\x78\x01", 2);
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z += char(pos + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE = 00
    z += char(n & 0xff);
    z += char(n >> 8);
    z += char(~n & 0xff);
    z += char((~n >> 8) & 0xff);
    z += raw.substr(pos, n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (unsigned char ch : raw) {
    a = (a + ch) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, (b << 16) | a);
  return z;
}

// rows: h rows of already packed samples (without the filter byte).
inline std::string png_bytes(uint32_t w, uint32_t h, int bit_depth, int colour_type,
                             const std::vector<std::string>& rows,
                             const std::string& palette = "") {
  std::string ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr += char(bit_depth);
  ihdr += char(colour_type);
  ihdr += std::string(3, '\0');  // deflate, adaptive filtering, no interlace
  std::string raw;
  for (const std::string& row : rows) raw += '\0' + row;  // filter type 0 (none)
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += png_chunk("IHDR", ihdr);
  if (!palette.empty()) png += png_chunk("PLTE", palette);
  png += png_chunk("IDAT", zlib_stored(raw));
  png += png_chunk("IEND", "");
  return png;
}

// A 16-bit RGB PNG: sample (x, y, c) = 257 * ((x * 40 + y * 20 + c * 60) % 256).
inline std::string png16_bytes(uint32_t w, uint32_t h) {
  std::vector<std::string> rows;
  for (uint32_t y = 0; y < h; ++y) {
    std::string row;
    for (uint32_t x = 0; x < w; ++x)
      for (uint32_t c = 0; c < 3; ++c) {
        const uint32_t v = 257 * ((x * 40 + y * 20 + c * 60) % 256);
        row += char(v >> 8);
        row += char(v & 0xff);
      }
    rows.push_back(row);
  }
  return png_bytes(w, h, 16, 2, rows);
}

// An 8-bit paletted PNG with a 4-colour palette.
inline std::string png_paletted_bytes(uint32_t w, uint32_t h) {
  const std::string palette("\xff\x00\x00\x00\xff\x00\x00\x00\xff\xff\xff\xff", 12);
  std::vector<std::string> rows;
  for (uint32_t y = 0; y < h; ++y) {
    std::string row;
    for (uint32_t x = 0; x < w; ++x) row += char((x + y) % 4);
    rows.push_back(row);
  }
  return png_bytes(w, h, 8, 3, rows, palette);
}

// A PNG whose header claims w x h pixels but holds one row of data.
inline std::string png_lying_header_bytes(uint32_t w, uint32_t h) {
  return png_bytes(w, h, 8, 2, {std::string(30, '\x40')});
}

}  // namespace nst::testing
