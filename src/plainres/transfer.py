"""The exact plain↔residual mapping of simplified nets: ID entries, p = T(r), r = T⁻¹(p) (YT §3, Eq. 1)
and the weight-decay penalty on T⁻¹(p) that keeps equivalent nets equivalent in training (YT §4.1).

Exactness in floating point: T⁻¹ only subtracts 1 from ID entries of magnitude in [½, 2], which
is exact (Sterbenz), so T⁻¹ is exact on the image of T and T(T⁻¹(T(r))) == T(r) bit for bit.
T itself rounds 1 + r once per ID entry (|error| ≤ 2⁻⁵³ in float64); every other entry is
copied unchanged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .models import SimplifiedNet


def id_entries(weight: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the ID entries (c, c, 0, 0), c ≤ min(C, D), of a D×C×U×V kernel (YT §3)."""
    d, c, u, v = weight.shape
    mask = torch.zeros(d, c, u, v, dtype=torch.bool, device=weight.device)
    k = torch.arange(min(c, d), device=weight.device)
    mask[k, k, u // 2, v // 2] = True
    return mask


def block_convs(net: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """The 3N block convolutions that T acts on, as (parameter name of the weight, module)."""
    if not isinstance(net, SimplifiedNet):
        raise TypeError(f"T is defined for simplified nets only, not {type(net).__name__}")
    return [(f"blocks.{i}.conv.weight", block.conv) for i, block in enumerate(net.blocks)]


def rho(net: nn.Module) -> dict[str, torch.Tensor]:
    """ρ of Eq. 1 per block-kernel parameter name: 1 on ID entries, 0 elsewhere."""
    return {name: id_entries(conv.weight).to(conv.weight.dtype) for name, conv in block_convs(net)}


def _transferred(net: SimplifiedNet, to_residual: bool, sign: float) -> SimplifiedNet:
    if net.residual == to_residual:
        raise ValueError(f"net is already {'residual' if to_residual else 'plain'}")
    out = copy.deepcopy(net)
    out.residual = to_residual
    for block in out.blocks:
        block.residual = to_residual
    with torch.no_grad():
        for _, conv in block_convs(out):
            conv.weight[id_entries(conv.weight)] += sign
    return out


def transfer_to_plain(residual_net: SimplifiedNet) -> SimplifiedNet:
    """The input/output-equivalent plain net with p = T(r) = r + ρ (YT Eq. 1)."""
    return _transferred(residual_net, to_residual=False, sign=1.0)


def transfer_to_residual(plain_net: SimplifiedNet) -> SimplifiedNet:
    """The input/output-equivalent residual net with r = T⁻¹(p) = p − ρ (YT Eq. 1)."""
    return _transferred(plain_net, to_residual=True, sign=-1.0)


def weights(net: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Every weight (conv kernels and FC matrix; no biases, no BN parameters)."""
    return [(name, p) for name, p in net.named_parameters() if name.endswith("weight") and p.dim() > 1]


def squared_distance(
    weights: dict[str, torch.Tensor], anchors: dict[str, torch.Tensor], stacked: bool = False
) -> torch.Tensor:
    """Σ ‖w − anchor‖² over `weights` (anchor 0 where none); per model when the weights are stacked."""
    total = 0
    for name, w in weights.items():
        d = w - anchors[name] if name in anchors else w
        total = total + (d.pow(2).flatten(1).sum(1) if stacked else d.pow(2).sum())
    return total


def weight_penalty(net: nn.Module, about_identity: bool = False) -> torch.Tensor:
    """‖w‖² over all weights; with about_identity, ‖T⁻¹(p)‖² for a plain net (YT §4.1).

    Differentiable: adding (λ/2)·penalty to the loss gives the decay gradient λ·w (or λ·T⁻¹(p)).
    """
    return squared_distance(dict(weights(net)), rho(net) if about_identity else {})
