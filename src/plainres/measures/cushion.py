"""The per-sample layer cushion μ_ℓ(x) = ‖Aˡx‖ / ‖Aˡ‖_F / ‖x‖ of a simplified net (YT §4, Fig. 3;
Arora et al. 2018). Aˡ is layer ℓ's convolution as a linear operator on its whole input (bias
excluded); for residual nets Aˡx is the full layer, x + conv_r(x), while ‖Aˡ‖_F is taken of r alone,
the identity removed (YT §4).

The interlayer cushion μ_{i,j}(xⁱ) = √nⁱ ‖J xⁱ‖ / ‖J‖_F / ‖xⁱ‖ of one block of a fully-fledged net
(YT §4), J its Jacobian at xⁱ: ‖J xⁱ‖ by a Jacobian–vector product, ‖J‖_F from random projections.
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
    """Raised by the hook once a module's input is in hand: the layers after it need not run."""


@torch.no_grad()
def inputs_of(
    net: nn.Module, module: nn.Module, images: torch.Tensor, batch_size: int = 500, prepare=lambda batch: batch
):
    """Yield, batch by batch, what `module` receives when `net` (float64, eval mode) reads `images`;
    the forward stops there. `prepare` maps a batch of `images` to the net's input (e.g. normalises
    uint8 images), so only one batch is ever float64."""
    net = net.double().eval()
    captured = {}

    def capture(_module, args):
        if "x" not in captured:  # armed: only the forward of `net` below stops here, not the caller's own use
            captured["x"] = args[0]
            raise _Captured

    handle = module.register_forward_pre_hook(capture)
    try:
        for i in range(0, len(images), batch_size):
            captured.clear()
            try:
                net(prepare(images[i : i + batch_size]).double())
            except _Captured:
                pass
            yield captured["x"]
    finally:
        handle.remove()


@torch.no_grad()
def layer_cushion(
    net: SimplifiedNet, layer: int, images: torch.Tensor, batch_size: int = 500, prepare=lambda batch: batch
) -> torch.Tensor:
    """μ_ℓ(x) for every image (N×3×32×32), in float64; x is layer ℓ's input."""
    conv, block = layer_module(net, layer)
    out = []
    for x in inputs_of(net, conv, images, batch_size, prepare):
        ax = F.conv2d(x, conv.weight, None, conv.stride, conv.padding)
        if block is not None and block.residual:
            ax = ax + shortcut(x, block.c_out, block.stride)
        out.append(ax.flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1))
    return torch.cat(out) / conv_frobenius(conv, *x.shape[-2:])


# ---------------------------------------------------------------- the interlayer cushion (YT §4, Arora et al.)


def block_jvp(block: nn.Module, x: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
    """J_x v for each sample x (B×…) and each of the tangents (K×B×…: K per sample), as K×B×…; the block
    runs in eval mode, so it maps each sample alone and J_x is that sample's Jacobian."""
    k, b = tangents.shape[:2]
    primal = x.expand(k, *x.shape).reshape(k * b, *x.shape[1:]).contiguous()
    _, out = torch.func.jvp(block, (primal,), (tangents.reshape(k * b, *x.shape[1:]).contiguous(),))
    return out.reshape(k, b, *out.shape[1:])


@torch.no_grad()
def interlayer_terms(
    block: nn.Module, x: torch.Tensor, probes: torch.Tensor, chunk: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """For the samples x (B×…): ‖J_x x‖ (B), exact, and ‖J_x v_k‖² for each probe v_k (K×…, shared by
    all samples) as B×K, whose mean over k estimates ‖J_x‖_F² without bias when E[v vᵀ] = I."""
    block = block.eval()
    jx = block_jvp(block, x, x[None])[0].flatten(1).norm(dim=1)
    squares = []
    for i in range(0, len(probes), chunk):
        v = probes[i : i + chunk]
        jv = block_jvp(block, x, v[:, None].expand(len(v), *x.shape))
        squares.append(jv.flatten(2).pow(2).sum(2).T)
    return jx, torch.cat(squares, dim=1)


def cushion_from_terms(jx: torch.Tensor, x_norm: torch.Tensor, squares: torch.Tensor, n: int) -> torch.Tensor:
    """μ(x) = √n ‖J_x x‖ / ‖J_x‖_F / ‖x‖ with ‖J_x‖_F² the mean of `squares` over its last axis (YT §4)."""
    return n**0.5 * jx / squares.mean(-1).sqrt() / x_norm


def jackknife_over_probes(jx: torch.Tensor, x_norm: torch.Tensor, squares: torch.Tensor, n: int) -> dict:
    """μ(x) per sample and the standard errors that the K random probes leave in it, by the jackknife
    over probes (leave one probe out, K estimates): per sample, and of the mean and the sd of μ over
    the samples (the probes are shared, so their errors are correlated across samples and are
    propagated together, not averaged away)."""
    k = squares.shape[1]
    mu = cushion_from_terms(jx, x_norm, squares, n)
    loo_squares = (squares.sum(1, keepdim=True) - squares) / (k - 1)  # B×K: probe k left out
    loo = n**0.5 * jx[:, None] / loo_squares.sqrt() / x_norm[:, None]  # B×K

    def se(values: torch.Tensor) -> float | torch.Tensor:  # jackknife se over the last axis
        return ((k - 1) / k * (values - values.mean(-1, keepdim=True)).pow(2).sum(-1)).sqrt()

    return {
        "mu": mu,
        "se": se(loo),
        "mean": mu.mean().item(),
        "mean_se": se(loo.mean(0)).item(),
        "sd": mu.std().item(),
        "sd_se": se(loo.std(0)).item(),
    }


def interlayer_cushion(
    net: nn.Module,
    block_index: int,
    images: torch.Tensor,
    probes: int,
    seed: int = 0,
    batch_size: int = 50,
    prepare=lambda batch: batch,
) -> dict:
    """The per-sample interlayer cushion of block `block_index` (1-based) of a fully-fledged net over
    `images`, in float64 with BN in eval mode: ‖J_x x‖ by one JVP, ‖J_x‖_F² from `probes` Gaussian
    probes shared by all samples (seeded), with jackknife standard errors (see jackknife_over_probes).
    Each sample is mapped alone, so the batching changes no bit; 50 images × 2 probes per JVP was fastest on a
    2-core CPU (0.65× the time of 250 × 8)."""
    if not 1 <= block_index <= len(net.blocks):
        raise ValueError(f"block must be in 1..{len(net.blocks)}, got {block_index}")
    if probes < 2:
        raise ValueError(f"probes must be ≥ 2 for a standard error, got {probes}")
    block = net.double().eval().blocks[block_index - 1]
    jx, x_norm, squares, v = [], [], [], None
    for x in inputs_of(net, block, images, batch_size, prepare):
        if v is None:
            g = torch.Generator().manual_seed(seed)
            v = torch.randn(probes, *x.shape[1:], generator=g, dtype=x.dtype).to(x.device)
        j, q = interlayer_terms(block, x, v)
        jx.append(j), x_norm.append(x.flatten(1).norm(dim=1)), squares.append(q)
    return jackknife_over_probes(torch.cat(jx), torch.cat(x_norm), torch.cat(squares), v[0].numel())
