#!/usr/bin/env python3
"""Writes the tiny PyTorch checkpoints that tests/test_pth.cpp reads.

Run from anywhere with Debian's python3-torch: python3 tests/data/make_pth_fixtures.py
The outputs are committed, so the tests need no PyTorch.

- tiny_vgg.pth: a torchvision-style VGG-19 state_dict (features.N / classifier.N keys at
  torchvision's indices) with tiny widths: convs 3->2->2->3->...; values are
  k * 0.001 + tensor_index so tests can recompute every element.
- tiny_vgg_legacy.pth: the same dict in the pre-1.6 (non-zip) torch.save format.
- odd_tensors.pth: a non-contiguous (transposed) tensor, a view at a storage offset,
  a 1-D tensor and two tensors sharing one storage.
- Files the reader must reject: not_state_dict.pth (a checkpoint dict holding a dict),
  half.pth (a float16 tensor), evil.pth (a pickle calling os.system).
"""
import collections
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
WIDTHS = [2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]


def value_tensor(shape, index):
    n = 1
    for d in shape:
        n *= d
    return (torch.arange(n, dtype=torch.float32) * 0.001 + index).reshape(shape)


def tiny_vgg():
    sd = collections.OrderedDict()
    k = 0
    cin = 3
    for idx, cout in zip(CONV_INDICES, WIDTHS):
        sd[f"features.{idx}.weight"] = value_tensor((cout, cin, 3, 3), k)
        sd[f"features.{idx}.bias"] = value_tensor((cout,), k + 0.5)
        k += 1
        cin = cout
    # fc6 takes the last feature map flattened (C=5, H=W=2 -> 20), as torch does (C, H, W).
    for idx, (fin, fout) in zip([0, 3, 6], [(20, 6), (6, 6), (6, 4)]):
        sd[f"classifier.{idx}.weight"] = value_tensor((fout, fin), k)
        sd[f"classifier.{idx}.bias"] = value_tensor((fout,), k + 0.5)
        k += 1
    # Module.state_dict() attaches per-module versions; torch.save pickles them (BUILD).
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("features", {"version": 1})])
    return sd


def odd_tensors():
    base = value_tensor((3, 4), 1)
    sd = collections.OrderedDict()
    sd["transposed"] = base.t()  # shape (4, 3), stride (1, 4)
    sd["offset_view"] = base[1]  # shape (4,), storage offset 4
    sd["plain"] = value_tensor((5,), 2)
    sd["shares_base"] = base
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def main():
    torch.save(tiny_vgg(), os.path.join(HERE, "tiny_vgg.pth"))
    torch.save(tiny_vgg(), os.path.join(HERE, "tiny_vgg_legacy.pth"),
               _use_new_zipfile_serialization=False)
    torch.save(odd_tensors(), os.path.join(HERE, "odd_tensors.pth"))
    torch.save({"model": {"w": torch.zeros(2)}, "epoch": 3},
               os.path.join(HERE, "not_state_dict.pth"))
    torch.save({"w": torch.zeros(3, dtype=torch.float16)}, os.path.join(HERE, "half.pth"))
    torch.save({"x": Evil()}, os.path.join(HERE, "evil.pth"))


if __name__ == "__main__":
    main()
