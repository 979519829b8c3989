"""The per-sample layer cushion μ_ℓ(x) = ‖Aˡx‖ / ‖Aˡ‖_F / ‖x‖ of a simplified net (YT §4, Fig. 3;
Arora et al. 2018). Aˡ is layer ℓ's convolution as a linear operator on its whole input (bias
excluded); for residual nets Aˡx is the full layer, x + conv_r(x), while ‖Aˡ‖_F is taken of r alone,
the identity removed (YT §4).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models import SimplifiedNet, shortcut


def tap_counts(size_in: int, kernel: int, stride: int, padding: int) -> torch.Tensor:
    """For each kernel offset u: how many output positions read an input inside the image."""
    size_out = (size_in + 2 * padding - kernel) // stride + 1
    i = torch.arange(size_out)[:, None] * stride + torch.arange(kernel)[None, :] - padding
    return ((i >= 0) & (i < size_in)).sum(0)


def conv_frobenius(conv: nn.Conv2d, height: int, width: int) -> torch.Tensor:
    """Exact ‖A‖_F of x ↦ conv(x) − bias on C×height×width inputs: every output position counted,
    borders included: ‖A‖_F² = Σ_{d,c,u,v} w[d,c,u,v]² · rows(u) · cols(v)."""
    w = conv.weight.detach().double()
    (sh, sw), (ph, pw) = conv.stride, conv.padding
    rows = tap_counts(height, w.shape[2], sh, ph).to(w)
    cols = tap_counts(width, w.shape[3], sw, pw).to(w)
    return (w.pow(2).sum((0, 1)) * rows[:, None] * cols[None, :]).sum().sqrt()


def layer_module(net: SimplifiedNet, layer: int) -> tuple[nn.Conv2d, nn.Module | None]:
    """Layer ℓ (1 = the stem conv, 2 … L−1 = the block convs) as (conv, its block or None)."""
    if layer == 1:
        return net.stem, None
    if not 2 <= layer <= len(net.blocks) + 1:
        raise ValueError(f"layer must be in 1..{len(net.blocks) + 1} (the conv layers), got {layer}")
    block = net.blocks[layer - 2]
    return block.conv, block


class _Captured(Exception):
    """Raised by the hook once layer ℓ's input is in hand: the layers after it need not run."""


@torch.no_grad()
def layer_cushion(net: SimplifiedNet, layer: int, images: torch.Tensor, batch_size: int = 500,
                  prepare=lambda batch: batch) -> torch.Tensor:
    """μ_ℓ(x) for every image (N×3×32×32), in float64; x is layer ℓ's input. `prepare` maps a batch
    of `images` to the net's input (e.g. normalises uint8 images), so only one batch is ever float64."""
    net = net.double().eval()
    conv, block = layer_module(net, layer)
    captured = {}

    def capture(_module, args):
        captured["x"] = args[0]
        raise _Captured

    handle = conv.register_forward_pre_hook(capture)
    out = []
    try:
        for i in range(0, len(images), batch_size):
            try:
                net(prepare(images[i:i + batch_size]).double())
            except _Captured:
                pass
            x = captured["x"]
            ax = F.conv2d(x, conv.weight, None, conv.stride, conv.padding)
            if block is not None and block.residual:
                ax = ax + shortcut(x, block.c_out, block.stride)
            out.append(ax.flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1))
    finally:
        handle.remove()
    height, width = captured["x"].shape[-2:]
    return torch.cat(out) / conv_frobenius(conv, height, width)
