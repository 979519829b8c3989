"""The networks both papers train: simplified plain/residual nets (YT §2, SM A, Figs 4–5),
dominant-path nets T′ (YT D.3) and fully-fledged CIFAR ResNets with BN (He et al. 2016).

Every layer's pre-activation, post-activation and the final activation a⁽ᴸ⁾ pass through a
named `Tap`; `record` reads them with forward hooks, so measures never touch forward code.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

WIDTHS = (16, 32, 64)  # channels of groups G16, G32, G64 (YT SM A)
PATHS = ("all", "dominant", "dominant-full-lower")


class Tap(nn.Identity):
    """A read-out point: `kind` is 'pre' (before ReLU), 'post' (after ReLU) or 'final' (a⁽ᴸ⁾)."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind


@contextlib.contextmanager
def tapped(model: nn.Module, kinds=("pre", "post", "final"), grad: bool = False):
    """Collect the outputs of every Tap of `kinds` during the forward passes inside the block.

    Yields an OrderedDict {tap name: tensor} in forward order (the last forward wins).
    With grad=True the tensors keep their `.grad` after backward (∂loss/∂activation).
    """
    seen: OrderedDict[str, torch.Tensor] = OrderedDict()
    handles = []

    def hook(name):
        def fn(_module, _inputs, out):
            if grad and out.requires_grad:
                out.retain_grad()
            seen[name] = out if grad else out.detach()

        return fn

    for name, module in model.named_modules():
        if isinstance(module, Tap) and module.kind in kinds:
            handles.append(module.register_forward_hook(hook(name)))
    try:
        yield seen
    finally:
        for h in handles:
            h.remove()


def conv3x3(c_in: int, c_out: int, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias)


class MaskedConv2d(nn.Conv2d):
    """A 3×3 convolution whose kernel is restricted to the entries of a fixed boolean mask."""

    def __init__(self, c_in: int, c_out: int, stride: int, mask: torch.Tensor):
        super().__init__(c_in, c_out, 3, stride=stride, padding=1, bias=True)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def dominant_path_mask(c_in: int, c_out: int, full_lower: bool = False) -> torch.Tensor:
    """Kernel support of T′ (YT D.3): T_s diagonal; T_r two stacked diagonal blocks.

    Entry (d, c, :, :) is free when d ≡ c (mod c_in). With `full_lower`, the lower c_in × c_in
    half of a channel-doubling kernel is full (the paper's 21.31 % variant).
    """
    d = torch.arange(c_out)[:, None]
    c = torch.arange(c_in)[None, :]
    keep = (d % c_in) == c
    if full_lower:
        keep = keep | (d >= c_in)
    return keep[:, :, None, None].expand(c_out, c_in, 3, 3).clone()


def shortcut(x: torch.Tensor, c_out: int, stride: int) -> torch.Tensor:
    """The identity of a block: x subsampled at `stride`, zero on new channels (YT §3; He option A)."""
    if stride > 1:
        x = x[:, :, ::stride, ::stride]
    if c_out > x.shape[1]:
        x = F.pad(x, (0, 0, 0, 0, 0, c_out - x.shape[1]))
    return x


class SimplifiedBlock(nn.Module):
    """Plain y = relu(conv(x)) or residual y = relu(x + conv(x)) (YT Fig. 5)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool, mask=None):
        super().__init__()
        self.c_in, self.c_out, self.stride, self.residual = c_in, c_out, stride, residual
        self.conv = conv3x3(c_in, c_out, stride) if mask is None else MaskedConv2d(c_in, c_out, stride, mask)
        self.pre, self.post = Tap("pre"), Tap("post")

    def forward(self, x):
        z = self.conv(x)
        if self.residual:
            z = z + shortcut(x, self.c_out, self.stride)
        return self.post(F.relu(self.pre(z)))


def group_plan(depth: int, widths=WIDTHS):
    """(c_in, c_out, stride) of the 3N blocks of a depth-(3N+2) net (YT SM A)."""
    if depth < 5 or (depth - 2) % 3:
        raise ValueError(f"simplified depth must be 3N+2 with N ≥ 1, got {depth}")
    n = (depth - 2) // 3
    plan, c_in = [], widths[0]
    for g, width in enumerate(widths):
        for i in range(n):
            plan.append((c_in, width, 2 if (g > 0 and i == 0) else 1))
            c_in = width
    return plan


class SimplifiedNet(nn.Module):
    """Conv3×3(3→16)+ReLU, 3N blocks in G16/G32/G64, 8×8 average pool, FC (YT SM A, Fig. 4).

    `paths='dominant'` restricts every block kernel to the dominant signal paths T′ (YT D.3);
    'dominant-full-lower' keeps the lower half of the channel-doubling kernels full.
    """

    def __init__(
        self, depth: int, residual: bool, paths: str = "all", in_channels: int = 3, num_classes: int = 10, widths=WIDTHS
    ):
        super().__init__()
        if paths not in PATHS:
            raise ValueError(f"paths must be one of {PATHS}, got {paths!r}")
        self.depth, self.residual, self.paths = depth, residual, paths
        self.stem = conv3x3(in_channels, widths[0])
        self.stem_pre, self.stem_post = Tap("pre"), Tap("post")
        blocks = []
        for c_in, c_out, stride in group_plan(depth, widths):
            mask = None
            if paths != "all":
                mask = dominant_path_mask(c_in, c_out, full_lower=(paths == "dominant-full-lower"))
            blocks.append(SimplifiedBlock(c_in, c_out, stride, residual, mask))
        self.blocks = nn.Sequential(*blocks)
        self.final = Tap("final")
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = self.stem_post(F.relu(self.stem_pre(self.stem(x))))
        x = self.blocks(x)
        a_L = self.final(F.adaptive_avg_pool2d(x.contiguous(), 1).flatten(1))
        return self.fc(a_L)


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN (+ option-A shortcut) - ReLU (He et al. 2016, CIFAR)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool):
        super().__init__()
        self.c_out, self.stride, self.residual = c_out, stride, residual
        self.conv1 = conv3x3(c_in, c_out, stride, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = conv3x3(c_out, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pre1, self.post1, self.pre2, self.post2 = Tap("pre"), Tap("post"), Tap("pre"), Tap("post")

    def forward(self, x):
        h = self.post1(F.relu(self.pre1(self.bn1(self.conv1(x)))))
        z = self.bn2(self.conv2(h))
        if self.residual:
            z = z + shortcut(x, self.c_out, self.stride)
        return self.post2(F.relu(self.pre2(z)))


class FullyFledgedNet(nn.Module):
    """He et al. (2016) CIFAR ResNet of depth 6n+2 with BN and option-A shortcuts, or its plain twin."""

    def __init__(self, depth: int, residual: bool, in_channels: int = 3, num_classes: int = 10, widths=WIDTHS):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"fully-fledged depth must be 6n+2 with n ≥ 1, got {depth}")
        self.depth, self.residual = depth, residual
        self.stem = conv3x3(in_channels, widths[0], bias=False)
        self.stem_bn = nn.BatchNorm2d(widths[0])
        self.stem_pre, self.stem_post = Tap("pre"), Tap("post")
        n = (depth - 2) // 6
        blocks, c_in = [], widths[0]
        for g, width in enumerate(widths):
            for i in range(n):
                blocks.append(BasicBlock(c_in, width, 2 if (g > 0 and i == 0) else 1, residual))
                c_in = width
        self.blocks = nn.Sequential(*blocks)
        self.final = Tap("final")
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = self.stem_post(F.relu(self.stem_pre(self.stem_bn(self.stem(x)))))
        x = self.blocks(x)
        return self.fc(self.final(F.adaptive_avg_pool2d(x.contiguous(), 1).flatten(1)))


ARCHS = ("simplified", "dominant", "dominant-full-lower", "fully-fledged")


def build_model(arch: str, net: str, depth: int, num_classes: int = 10) -> nn.Module:
    """One entry point for the config's (arch, net ∈ {plain, residual}, depth)."""
    if net not in ("plain", "residual"):
        raise ValueError(f"net must be 'plain' or 'residual', got {net!r}")
    residual = net == "residual"
    if arch == "fully-fledged":
        return FullyFledgedNet(depth, residual, num_classes=num_classes)
    if arch == "simplified":
        return SimplifiedNet(depth, residual, num_classes=num_classes)
    if arch in ("dominant", "dominant-full-lower"):
        return SimplifiedNet(depth, residual, paths=arch, num_classes=num_classes)
    raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")


def count_parameters(model: nn.Module) -> int:
    """Trainable entries; a masked kernel counts only its free entries."""
    total = 0
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            mask = getattr(module, "mask", None) if name == "weight" else None
            total += int(mask.sum()) if mask is not None else p.numel()
    return total


def multiply_adds(model: nn.Module, image_size: int = 32) -> int:
    """Multiply-adds of one image's forward pass through the convolutions and the FC layer.

    A masked kernel is applied as a dense convolution, so it costs what a full one does.
    """
    total = 0

    def count(module, inputs, output):
        nonlocal total
        per_output = module.weight[0].numel()  # c_in/groups · k · k for a conv, c_in for a linear layer
        total += output[0].numel() * per_output

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
        with torch.no_grad():
            model(torch.zeros(1, first.in_channels, image_size, image_size, dtype=first.weight.dtype))
    finally:
        for h in hooks:
            h.remove()
    return total
