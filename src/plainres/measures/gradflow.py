"""Dominant gradient flow (YT §D, Eqs. 6 and 13): how much of the gradient reaching sub-activation i
of layer ℓ comes from final activation i, against all other final activations.

Θ⁽ˡ⁾_ijp = ∂a⁽ᴸ⁾_j/∂a⁽ˡ⁾_ip · ∂L/∂a⁽ᴸ⁾_j. Σ_j Θ_ijp is the ordinary gradient ∂L/∂a⁽ˡ⁾_ip (one backward),
so only the diagonal Θ_iip needs one vector–Jacobian product per final channel i.
r⁽ˡ⁾_i = (1/P) Σ_p |Θ_iip| / |Σ_{j≠i} Θ_ijp|, and σ⁽ˡ⁾ = the fraction of channels i with r_i > 1 (Eq. 13),
averaged over the samples of the minibatch.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch


def _ratio(diagonal: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """|Θ_ii| / |Σ_{j≠i} Θ_ij| elementwise; x/0 is ∞ for x > 0 and 0/0 counts as 0 (no flow at all)."""
    num, den = diagonal.abs(), rest.abs()
    return torch.where(
        den > 0,
        num / den.clamp_min(torch.finfo(num.dtype).tiny),
        torch.where(num > 0, torch.full_like(num, float("inf")), torch.zeros_like(num)),
    )


def flow_ratios(
    layers: list[torch.Tensor], final: torch.Tensor, final_grad: torch.Tensor, chunk: int = 1
) -> list[torch.Tensor]:
    """r⁽ˡ⁾_i per sample (B×C) for each tensor in `layers` (B×C×… activations on the graph to `final`,
    B×D); final_grad is ∂L/∂a⁽ᴸ⁾ (B×D). Channels i ≥ D have no diagonal partner and are left out
    (YT's layers have C ≤ D = 64). `chunk` final channels share one batched VJP (vmap); the results do not
    depend on it, and on a CPU one at a time is fastest (5× faster than 16 at depth 20: bench/bench_measures.py)."""
    b, d = final.shape
    total = torch.autograd.grad(final, layers, final_grad, retain_graph=True)  # Σ_j Θ_ij per layer
    diagonal = [torch.zeros_like(a) for a in layers]
    for start in range(0, d, chunk):
        js = torch.arange(start, min(start + chunk, d), device=final.device)
        # only layers with a channel j of this chunk need its VJPs, so they stop there: in YT's nets the
        # final channels 32..63 go back through G64 alone, 16..31 through G64 and G32
        wanted = [k for k, a in enumerate(layers) if a.shape[1] > start]
        cotangents = torch.zeros(len(js), b, d, dtype=final.dtype, device=final.device)
        cotangents[torch.arange(len(js)), :, js] = final_grad[:, js].T
        per_j = torch.autograd.grad(
            final, [layers[k] for k in wanted], cotangents, retain_graph=True, is_grads_batched=True
        )
        for k, grads in zip(wanted, per_j):
            for n, j in enumerate(js.tolist()):
                if j < diagonal[k].shape[1]:
                    diagonal[k][:, j] = grads[n][:, j]
    ratios = []
    for a, diag, tot in zip(layers, diagonal, total):
        c = min(a.shape[1], d)
        ratios.append(_ratio(diag[:, :c], tot[:, :c] - diag[:, :c]).flatten(2).mean(2))  # mean over positions p
    return ratios


def dominant_flow_fraction(
    layers: list[torch.Tensor], final: torch.Tensor, final_grad: torch.Tensor, chunk: int = 1
) -> list[torch.Tensor]:
    """σ⁽ˡ⁾ (Eq. 13) per sample, for each layer: the fraction of its channels i with r_i > 1."""
    return [(r > 1).double().mean(1) for r in flow_ratios(layers, final, final_grad, chunk)]


def layer_flow_fractions(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """σ⁽ˡ⁾ of every layer ℓ = 1 … L−1 (each conv layer's output a⁽ˡ⁾ after its ReLU: the stem, and each
    block's, or each of a BN block's two) for the minibatch (images, labels), averaged over its samples
    (YT Eq. 13, Fig 12). L is the minibatch-mean cross-entropy, so ∂L/∂a⁽ᴸ⁾ is what training
    differentiates. The forward is a training forward: BN normalises with the minibatch's statistics,
    so Θ splits the very gradient an SGD step follows, cross-sample BN terms included (a copy of `net`
    runs it, so its running statistics are left as they were)."""
    from ..models import tapped
    from ..step import final_activation_grad

    net = copy.deepcopy(net).train()
    with tapped(net, kinds=("post", "final"), grad=True) as taps:
        logits = net(images)
    layers = [t for name, t in taps.items() if name != "final"]
    final = taps["final"]
    grad = final_activation_grad(logits.detach()[None], labels[None], net.fc.weight.detach()[None])[0]
    return [f.mean().item() for f in dominant_flow_fraction(layers, final, grad)]


# Fig 12's two moments of training: (stage, snapshot, 1-based epoch and 0-based minibatch measured there).
def fig12_stages(epochs: int) -> list[tuple[str, str, int, int]]:
    """'first': the state after iteration 1 (snapshot iter_1) on the minibatch of iteration 2; 'last': the
    state at the start of the last epoch (snapshot epoch_{E−1}) on that epoch's first minibatch."""
    return [("first", "iter_1", 1, 1), ("last", f"epoch_{epochs - 1}", epochs, 0)]


def run_flow_fractions(run_dir: Path, sets, stages: list[tuple[str, str, int, int]] | None = None) -> list[dict]:
    """σ⁽ˡ⁾ of one finished run at `stages` (default: Fig 12's, `fig12_stages`), each on the minibatch the run
    itself drew there from its training set, `sets(subset)` (a train.TrainingSets)."""
    from ..minibatches import replay_minibatch
    from ..runfolder import RunFolder

    run, cfg = RunFolder(run_dir).run_config()
    rows = []
    for stage, snapshot, epoch, it in stages or fig12_stages(cfg.epochs):
        images, labels = replay_minibatch(run, cfg, sets(cfg.train_subset), epoch, it)
        sigma = layer_flow_fractions(RunFolder(run_dir).net(snapshot), images, labels)
        rows += [
            {"stage": stage, "snapshot": snapshot, "layer": layer, "sigma": s} for layer, s in enumerate(sigma, start=1)
        ]
    return rows
