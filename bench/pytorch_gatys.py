"""nst's optimisation-mode objective (Gatys et al.) in PyTorch, for bench/time_to_quality.py.

Mirrors, term by term, what `nst stylize` / `nst loss` compute (docs/algorithm.md):

    image x: the network's input space, x = rgb * pixel_range / 255 / std - mean / std
             in the weight file's channel order (Caffe VGG-19: BGR, 0..255, mean subtracted)
    f(x) = 5 mean((F_relu4_2(x) - F_relu4_2(c))^2)                       content
         + 100 Σ_{relu1_1..relu5_1} mean((G(F_l(x)) - G(F_l(s)))^2)      style, G = F Fᵀ / (C·H·W)
         + 1e-3 TV(x),  TV = Σ squared differences of vertical and horizontal neighbours of x

VGG-19: 3x3 convs with zero padding 1, ReLU, 2x2 max pooling of stride 2, weights
dequantised from the .nstw file (weights/nstw.py) as float32(double(q) * scale + min).
Images: decoded with PIL (EXIF orientation applied, as nst does), resized with
`resize_image`, a port of src/io/image.cpp (antialiased bilinear: a triangle
filter widened by the shrink factor, in float, no rounding to 8 bits).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights"))
import nstw  # noqa: E402  (weights/nstw.py, the stand-alone .nstw reader)

# VGG-19 up to conv5_1, the deepest layer the default objective needs.
CONVS = ["conv1_1", "conv1_2", "pool",
         "conv2_1", "conv2_2", "pool",
         "conv3_1", "conv3_2", "conv3_3", "conv3_4", "pool",
         "conv4_1", "conv4_2", "conv4_3", "conv4_4", "pool",
         "conv5_1"]
CONTENT_LAYERS = ["relu4_2"]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


class Vgg19:
    """The convolutions of a .nstw VGG-19 file as float32 tensors, and its input convention."""

    def __init__(self, path):
        meta, tensors = nstw.read(path)
        self.bgr = meta["channel_order"] == "BGR"
        self.pixel_range = meta["pixel_range"]
        self.mean = meta["mean"]
        self.std = meta["std"]
        self.weights = {}
        for name in CONVS:
            if name == "pool":
                continue
            self.weights[name] = (self._tensor(tensors[name + ".weight"]),
                                  self._tensor(tensors[name + ".bias"]))

    @staticmethod
    def _tensor(entry):
        dtype, dims, scale, minimum, data = entry
        if dtype == "uint8":  # w = q * scale + min in double, rounded to float32 (FORMAT.md)
            q = np.frombuffer(data, dtype=np.uint8).astype(np.float64)
            w = (q * scale + minimum).astype(np.float32)
        else:
            w = np.frombuffer(data, dtype="<f4").astype(np.float32)
        return torch.from_numpy(w.reshape(dims).copy())

    def to_input(self, rgb):
        """[1, 3, H, W] RGB 0..255 -> the network's input space (Vgg19::to_input)."""
        x = rgb.flip(1) if self.bgr else rgb
        a = torch.tensor([self.pixel_range / 255.0 / s for s in self.std], dtype=torch.float32)
        b = torch.tensor([-m / s for m, s in zip(self.mean, self.std)], dtype=torch.float32)
        return x * a.view(1, 3, 1, 1) + b.view(1, 3, 1, 1)

    def from_input(self, x):
        """The inverse of to_input (Vgg19::from_input)."""
        s = torch.tensor(self.std, dtype=torch.float32).view(1, 3, 1, 1)
        m = torch.tensor(self.mean, dtype=torch.float32).view(1, 3, 1, 1)
        rgb = (x * s + m) * (255.0 / self.pixel_range)
        return rgb.flip(1) if self.bgr else rgb

    def features(self, x, wanted):
        """{relu name: activation [1, C, H, W]} for the wanted relu layers."""
        out = {}
        for name in CONVS:
            if name == "pool":
                x = F.max_pool2d(x, 2, 2)
                continue
            w, b = self.weights[name]
            x = F.relu(F.conv2d(x, w, b, padding=1))
            relu = "relu" + name[4:]
            if relu in wanted:
                out[relu] = x
                if len(out) == len(wanted):
                    break
        return out


def gram(f):
    """G = F Fᵀ / (C·H·W), F the [C, H·W] matrix of a [1, C, H, W] activation."""
    c = f.shape[1]
    m = f.reshape(c, -1)
    return m @ m.t() / m.numel()


def total_variation(x):
    """Σ (x[h, w+1] - x[h, w])² + Σ (x[h+1, w] - x[h, w])² over every channel."""
    return ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum() + \
        ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()


class GatysObjective:
    """nst's default objective (StyleObjective::evaluate) for one content and one style image."""

    def __init__(self, net, content_rgb, style_rgb, content_weight=5.0, style_weight=100.0,
                 tv_weight=1e-3):
        self.net = net
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        with torch.no_grad():
            feats = net.features(net.to_input(content_rgb), CONTENT_LAYERS)
            self.content_targets = {l: feats[l] for l in CONTENT_LAYERS}
            feats = net.features(net.to_input(style_rgb), STYLE_LAYERS)
            self.style_targets = {l: gram(feats[l]) for l in STYLE_LAYERS}

    def terms(self, x):
        """{"total", "content", "style" (per layer, weighted), "tv" (weighted)} at x (input space)."""
        feats = self.net.features(x, CONTENT_LAYERS + STYLE_LAYERS)
        content = sum(self.content_weight * F.mse_loss(feats[l], self.content_targets[l])
                      for l in CONTENT_LAYERS)
        style = [self.style_weight * F.mse_loss(gram(feats[l]), self.style_targets[l])
                 for l in STYLE_LAYERS]
        tv = self.tv_weight * total_variation(x)
        return {"total": content + sum(style) + tv, "content": content, "style": style, "tv": tv}

    def __call__(self, x):
        return self.terms(x)["total"]


def load_image(path):
    """RGB 0..255 as a float32 [1, 3, H, W] tensor, as a viewer shows it (EXIF orientation)."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        a = np.asarray(im, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1)[None].copy())


def save_png(path, rgb):
    """Clipped to 0..255, rounded half away from zero (std::lround), 8-bit PNG."""
    a = np.floor(rgb.detach().clamp(0, 255)[0].numpy().transpose(1, 2, 0) + 0.5)
    Image.fromarray(a.astype(np.uint8), "RGB").save(path)


def fit_long_side(h, w, long_side):
    """(h', w') with the long side long_side and the aspect kept (io/image.cpp fit_long_side)."""
    if h >= w:
        return long_side, max(1, int(np.floor(w * long_side / h + 0.5)))
    return max(1, int(np.floor(h * long_side / w + 0.5))), long_side


def style_long_side(style_scale, size):
    """nst::style_long_side: the style image's long side for an output of long side size."""
    return max(16, int(np.floor(style_scale * size + 0.5)))


def triangle_matrix(n_in, n_out):
    """[n_out, n_in] weights of io/image.cpp triangle_taps (radius widened when shrinking)."""
    m = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    radius = max(scale, 1.0)
    for o in range(n_out):
        center = (o + 0.5) * scale
        lo = max(0, int(np.floor(center - radius)))
        hi = min(n_in, int(np.ceil(center + radius)))
        w = np.array([max(0.0, 1.0 - abs(i + 0.5 - center) / radius) for i in range(lo, hi)])
        if w.sum() <= 0.0:
            w[:] = 0.0
            w[0] = 1.0
        m[o, lo:hi] = (w / w.sum()).astype(np.float32)
    return m


def resize_image(img, out_h, out_w):
    """Antialiased bilinear resize of [1, 3, H, W] (io/image.cpp resize_image), in float."""
    h, w = img.shape[2], img.shape[3]
    if (h, w) == (out_h, out_w):
        return img.clone()
    mh, mw = triangle_matrix(h, out_h), triangle_matrix(w, out_w)
    a = img[0].double().numpy()                  # [3, H, W]
    out = np.matmul(mh, np.matmul(a, mw.T))       # [3, out_h, out_w]
    return torch.from_numpy(out.astype(np.float32)[None].copy())


def resize_to_long_side(img, long_side):
    return resize_image(img, *fit_long_side(img.shape[2], img.shape[3], long_side))
