#!/usr/bin/python3
"""Writes the EXIF-orientation JPEGs of tests/test_exif.cpp and the EXIF seeds of
fuzz/corpus/image (CI reads the committed files and needs no Python):

    /usr/bin/python3 tests/data/exif/make_exif_jpegs.py      (needs python3-pil)

tests/data/exif/orientation_K.jpg (K = 1..8): the same stored pixels, 24 wide and
16 tall, four solid blocks on the 8 x 8 JPEG grid (4:4:4, quality 100, so JPEG loss
stays a few levels), with EXIF orientation K written by PIL (a big-endian TIFF block, "MM"):

    x:  0       16   24
    y 0 +--------+----+
        |  red   |grn |
      8 +--------+----+
        |  blue  |yel |
     16 +--------+----+

orientation_6_intel.jpg: orientation 6 in a little-endian ("II") TIFF block made
by hand. The script asserts that PIL's ImageOps.exif_transpose shows each file as
the TIFF 6.0 / EXIF 2.3 definition of the tag says (SIDES below), which is how
tests/test_exif.cpp computes what nst must show.
"""
import io
import os
import struct

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FUZZ_DIR = os.path.join(ROOT, "fuzz", "corpus", "image")

W, H = 24, 16
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40)

# Orientation K: the visual side where the stored 0th row, and the stored 0th
# column, appear (TIFF 6.0 section 8; EXIF 2.3 4.6.4 A).
SIDES = {
    1: ("top", "left"),
    2: ("top", "right"),
    3: ("bottom", "right"),
    4: ("bottom", "left"),
    5: ("left", "top"),
    6: ("right", "top"),
    7: ("right", "bottom"),
    8: ("left", "bottom"),
}


def stored_colour(x, y):
    if y < 8:
        return RED if x < 16 else GREEN
    return BLUE if x < 16 else YELLOW


def stored_image(w, h):
    img = Image.new("RGB", (w, h))
    img.putdata([stored_colour(x * W // w, y * H // h) for y in range(h) for x in range(w)])
    return img


def stored_pixel(k, x, y, dw, dh):
    """The stored (x, y) shown at displayed (x, y) of a dw x dh display."""
    distance = {"top": y, "bottom": dh - 1 - y, "left": x, "right": dw - 1 - x}
    row_side, column_side = SIDES[k]
    return distance[column_side], distance[row_side]  # (stored column, stored row)


def tiff_block(order, orientation, *, ifd0=8, entries=None, tag_type=3, tag_count=1, cut=None):
    """b"Exif\\0\\0" + a TIFF block whose IFD0 holds one orientation entry.
    entries: the IFD0 entry count written (default 1, the true one); cut: keep
    only that many bytes of the TIFF block."""
    e = "<" if order == "II" else ">"
    head = (b"II*\0" if order == "II" else b"MM\0*") + struct.pack(e + "I", ifd0)
    value = struct.pack(e + "H", orientation) + b"\0\0"  # a SHORT in the first 2 bytes
    entry = struct.pack(e + "HHI", 0x0112, tag_type, tag_count) + value
    ifd = struct.pack(e + "H", 1 if entries is None else entries) + entry + struct.pack(e + "I", 0)
    tiff = head + ifd
    return b"Exif\0\0" + (tiff if cut is None else tiff[:cut])


def jpeg_bytes(img, exif):
    out = io.BytesIO()
    img.save(out, "JPEG", quality=100, subsampling=0, exif=exif, optimize=True)
    return out.getvalue()


def app1_payload(data):
    """The payload of the first APP1 segment (walks the segments from SOI)."""
    at = 2
    while data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker == 0xE1:
            return data[at + 4:at + 2 + length]
        at += 2 + length
    raise AssertionError("no APP1 segment")


def check_display(path, k):
    img = Image.open(path)
    assert img.size == (W, H), (path, img.size)
    assert img.getexif().get(0x0112) == k, path
    shown = ImageOps.exif_transpose(img).convert("RGB")
    dw, dh = (W, H) if SIDES[k][0] in ("top", "bottom") else (H, W)
    assert shown.size == (dw, dh), (path, shown.size)
    for y in range(dh):
        for x in range(dw):
            got = shown.getpixel((x, y))
            want = stored_colour(*stored_pixel(k, x, y, dw, dh))
            assert max(abs(a - b) for a, b in zip(got, want)) <= 8, (path, x, y, got, want)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    img = stored_image(W, H)
    for k in range(1, 9):
        path = os.path.join(HERE, f"orientation_{k}.jpg")
        exif = Image.Exif()
        exif[0x0112] = k
        write(path, jpeg_bytes(img, exif.tobytes()))
        assert app1_payload(open(path, "rb").read())[6:10] == b"MM\0*", path
        check_display(path, k)
    path = os.path.join(HERE, "orientation_6_intel.jpg")
    write(path, jpeg_bytes(img, tiff_block("II", 6)))
    assert app1_payload(open(path, "rb").read())[6:10] == b"II*\0", path
    check_display(path, 6)

    # Fuzz seeds: 16 x 8 pixels, valid and corrupt EXIF blocks.
    small = stored_image(16, 8)
    seeds = {
        "exif_le_6.jpg": tiff_block("II", 6),
        "exif_be_8.jpg": tiff_block("MM", 8),
        "exif_be_5.jpg": tiff_block("MM", 5),
        "exif_ifd0_past_end.jpg": tiff_block("II", 6, ifd0=4000),
        "exif_entries_past_end.jpg": tiff_block("MM", 6, entries=0xFFFF),
        "exif_wrong_type.jpg": tiff_block("II", 6, tag_type=4),
        "exif_orientation_9.jpg": tiff_block("MM", 9),
        "exif_truncated_ifd.jpg": tiff_block("II", 6, cut=14),
    }
    for name, exif in seeds.items():
        write(os.path.join(FUZZ_DIR, name), jpeg_bytes(small, exif))
    print(f"wrote 9 files to {HERE} and {len(seeds)} to {FUZZ_DIR}")


if __name__ == "__main__":
    main()
