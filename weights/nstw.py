#!/usr/bin/env python3
"""A stand-alone .nstw reader written from weights/FORMAT.md (Python standard library only).

    python3 weights/nstw.py FILE.nstw     # validates and lists the tensors

As a module: read(path) -> (metadata dict, {name: (dtype, dims, scale, min, bytes)}).
"""
import struct
import sys

MAGIC = b"NSTW\r\n\x1a\n"


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read(path, verify_data=True):
    blob = open(path, "rb").read()
    if len(blob) < 64 or blob[:8] != MAGIC:
        raise ValueError(f"{path}: not an .nstw file")
    version, count, file_size, index_offset, index_size, data_offset, index_sum, header_sum = \
        struct.unpack_from("<IIQQQQQQ", blob, 8)
    if version not in (1, 2):
        raise ValueError(f"{path}: unsupported version {version}")
    if fnv1a64(blob[:56]) != header_sum:
        raise ValueError(f"{path}: header checksum mismatch")
    if file_size != len(blob) or index_offset != 64:
        raise ValueError(f"{path}: size or index offset wrong")
    index = blob[64:64 + index_size]
    if fnv1a64(index) != index_sum:
        raise ValueError(f"{path}: index checksum mismatch")
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, index, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    def text():
        (n,) = take("I")
        return take(f"{n}s")[0].decode()

    order, _, _, _, pixel_range = take("BBBBf")
    meta = {"channel_order": "BGR" if order else "RGB", "pixel_range": pixel_range,
            "mean": take("3f"), "std": take("3f"), "source": text(), "source_checksum": text()}
    if version == 2:
        meta["network"] = text()  # the network description, JSON
    tensors = {}
    for _ in range(count):
        name = text()
        dtype, rank, _ = take("BBH")
        dims = take(f"{rank}Q")
        scale, minimum, offset, size, checksum = take("ddQQQ")
        data = blob[offset:offset + size]
        if len(data) != size or offset % 64:
            raise ValueError(f"{path}: tensor {name}: bad offset/size")
        if verify_data and fnv1a64(data) != checksum:
            raise ValueError(f"{path}: tensor {name}: checksum mismatch")
        tensors[name] = ("uint8" if dtype else "float32", dims, scale, minimum, data)
    if pos != index_size:
        raise ValueError(f"{path}: trailing bytes in the index")
    return meta, tensors


if __name__ == "__main__":
    meta, tensors = read(sys.argv[1], verify_data=len(sys.argv) < 3)
    print(meta)
    for name, (dtype, dims, scale, minimum, _) in tensors.items():
        print(f"{name:16s} {dtype:8s} {list(dims)} scale={scale:.6g} min={minimum:.6g}")
