"""LW App. C: the BN scale absorbed into the convolution before it, so a layer's norm carries the
multiplicative factor λ (LW Eq. 22) that BN otherwise holds apart (LW App. C Figs 2, 3)."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import torch
from torch import nn

from ..runfolder import RunFolder


def conv_bn_pairs(net: nn.Module) -> list[tuple[str, nn.Conv2d, nn.BatchNorm2d]]:
    """Every convolution directly followed by a BatchNorm2d among its parent's children (registration
    order: He et al.'s conv-BN), in forward order, named by the convolution."""
    pairs = []
    for parent_name, parent in net.named_modules():
        children = list(parent.named_children())
        for (name, conv), (_, bn) in itertools.pairwise(children):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                pairs.append((f"{parent_name}.{name}".lstrip("."), conv, bn))
    return pairs


def absorbed_kernel(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """BN(conv(x)) in eval mode as one convolution: W·γ/√(var+eps) per output channel and the bias
    β − γ(μ − b)/√(var+eps), b the conv's own bias (0 without)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    return conv.weight * scale.view(-1, 1, 1, 1), bn.bias - scale * (bn.running_mean - bias)


@torch.no_grad()
def absorb_batch_norm(net: nn.Module) -> nn.Module:
    """A copy of `net` in which every conv-BN pair is one biased convolution and the BN an identity:
    the same function as `net` in eval mode (tested)."""
    out = copy.deepcopy(net)
    for name, conv, bn in conv_bn_pairs(out):
        weight, bias = absorbed_kernel(conv, bn)
        fused = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            conv.groups,
            bias=True,
            dtype=weight.dtype,
            device=weight.device,
        )
        fused.weight.copy_(weight)
        fused.bias.copy_(bias)
        parent = out.get_submodule(name.rpartition(".")[0])
        bn_name = next(n for n, m in parent.named_children() if m is bn)
        setattr(parent, name.rpartition(".")[2], fused)
        setattr(parent, bn_name, nn.Identity())
    return out.eval()


@torch.no_grad()
def layer_norms(net: nn.Module) -> list[dict]:
    """Per conv-BN layer (1 = the stem): the Frobenius norm of the absorbed kernel, of the conv kernel
    alone, and the L2 norm of the BN scale γ (LW's λ)."""
    return [
        {
            "layer": i,
            "name": name,
            "absorbed_norm": absorbed_kernel(conv, bn)[0].norm().item(),
            "conv_norm": conv.weight.norm().item(),
            "bn_scale_norm": bn.weight.norm().item(),
        }
        for i, (name, conv, bn) in enumerate(conv_bn_pairs(net), start=1)
    ]


def run_layer_norms(run_dir: Path, epochs: list[int]) -> list[dict]:
    """`layer_norms` of a run's snapshot at the end of each of `epochs` (0: its initialisation)."""
    rows = []
    for epoch in epochs:
        net = RunFolder(run_dir).net(f"epoch_{epoch}")
        rows += [{"epoch": epoch, **row} for row in layer_norms(net)]
    return rows
