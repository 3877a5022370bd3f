// The EXIF orientation of JPEG files. A camera stores the pixels as the sensor saw
// them and records in the tag Orientation (0x0112, in IFD0 of the EXIF block) how
// a viewer must turn them. The eight values, as TIFF 6.0 (section 8) and EXIF 2.3
// (4.6.4 A) define them: where the stored 0th row and 0th column appear on screen.
//
//   value  0th row      0th column   to display the stored pixels     displayed size
//   1      top          left         as stored                        H x W
//   2      top          right        mirror left-right                H x W
//   3      bottom       right        rotate 180                       H x W
//   4      bottom       left         mirror top-bottom                H x W
//   5      left         top          transpose (main diagonal)        W x H
//   6      right        top          rotate 90 clockwise              W x H
//   7      right        bottom       transverse (anti-diagonal)       W x H
//   8      left         bottom       rotate 90 counter-clockwise      W x H
//
// A phone held upright stores a portrait photo as a landscape one with value 6.
// PIL's ImageOps.exif_transpose turns the test files the same way
// (tests/data/exif/make_exif_jpegs.py checks it).
#pragma once

#include <string>

#include "tensor/tensor.hpp"

namespace nst {

struct ExifOrientation {
  int value = 1;        // 1..8; 1 when there is none or it was ignored
  std::string problem;  // why an orientation that is present was ignored; "" otherwise
};

// The orientation of a JPEG: the marker segments are walked from SOI to the first
// APP1 segment holding "Exif\0\0" (none before SOS: value 1), then its TIFF block:
// header ("II*\0" little-endian or "MM\0*" big-endian), IFD0 offset, IFD0's 12-byte
// entries, tag 0x0112 of type SHORT (3) and count 1. Only IFD0 is read (its link to
// the next IFD is not followed), and every offset and count is checked against the
// block, so no file can make this read out of bounds or loop. A block that breaks
// the format, or an orientation other than 1..8, gives value 1 and a problem, e.g.
// "IFD0 offset 4000 is past the end of the 30-byte block". Not a JPEG, no EXIF
// block, or no orientation tag: value 1 and no problem.
ExifOrientation read_jpeg_orientation(const std::string& bytes);

// The displayed image of stored pixels img [N, C, H, W] with the given orientation
// (1..8, see the table): [N, C, H, W] for 1..4, [N, C, W, H] for 5..8. Value 1
// returns img itself, the others a new tensor.
Tensor apply_orientation(const Tensor& img, int orientation);

}  // namespace nst
