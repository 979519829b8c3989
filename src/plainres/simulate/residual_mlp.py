"""LW §4 and App. C (Fig. 1(d, e)): a 10-layer residual MLP of width 20 on a 10-class Gaussian mixture in 50-D,
trained by SGD on minibatches of 50, recording the BN scales λ_l (Eq. 22, Thm. 3) and the weight norm ‖w‖
(Eq. 26, Thm. 4) as training proceeds.

Conventions (the paper leaves them open):
- Layer 1 maps the input (50) to the width (20) and cannot be skipped: N₁ = BN(R(W₁ᵀx)). Layers 2..L are the
  residual blocks of Eq. 22, N_l = BN(R(W_lᵀN_{l−1})) + N_{l−1}, with BN applied to the ReLU output and its
  affine scale γ playing λ_l. A linear classifier (with bias) maps N_L to the logits.
- The layer weights W_l have no bias (Eq. 22 has none). Without BN a block is R(W_lᵀN_{l−1}) + N_{l−1} and
  layer 1 is R(W₁ᵀx).
- BN normalises every unit with the statistics of the batch it is given (no running averages), so a full-set
  evaluation uses the full set's statistics and the model carries no state beyond its parameters.
  `bn_shift` chooses whether the standard additive β is trained; LW's "simple" BN ignores additive terms.
- λ_l is reported as the mean over the layer's units of the BN scale γ, signed (`lambda`) and as |γ|
  (`lambda_abs`; Thm. 3 is about |λ_l|). ‖w‖ is the L2 norm of all layer weights W₁..W_L together (biases,
  BN parameters and the classifier excluded); the per-layer Frobenius norms are recorded too.
- Initialisation: W_l ~ N(0, init_gain²/fan_in) from a seeded generator (no global RNG); classifier
  N(0, classifier_gain²/fan_in), bias 0; β = 0, and γ = 1 (`bn_scale_init="ones"`, PyTorch's BatchNorm) or
  γ ~ U(0, 1) (`"uniform"`, Lua Torch's nn.BatchNormalization default, the paper's era), drawn after the weights.
- The mixture: one unit-covariance Gaussian per class by default, means N(0, separation²·I); the caption's
  "50 Gaussians" can be had as 5 components per class.
- float64 by default; one intra-op thread (the net is tiny).
"""

from __future__ import annotations

import contextlib
import math
import pickle
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import skip_init


def gaussian_mixture(
    n_samples: int,
    dim: int,
    classes: int,
    separation: float,
    seed: int,
    components_per_class: int = 1,
    means: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float64,
):
    """A balanced mixture of unit-covariance Gaussians in `dim`-D, `components_per_class` per class (LW App. C).

    Component means μ_k ~ N(0, separation²·I), k = 0..classes·components_per_class − 1, component k belonging to
    class k mod classes (or the given `means`, to draw a test set from the same mixture). Labels are
    arange(n) mod classes in a random order (class counts differ by at most one); a sample's component is
    uniform among its class's; x = μ_k + z with z ~ N(0, I). Two means are ≈ separation·√(2·dim) apart.
    Returns (x, y, means).
    """
    g = torch.Generator().manual_seed(seed)
    if means is None:
        means = separation * torch.randn(classes * components_per_class, dim, generator=g, dtype=torch.float64)
    labels = (torch.arange(n_samples) % classes)[torch.randperm(n_samples, generator=g)]
    component = labels + classes * torch.randint(components_per_class, (n_samples,), generator=g)
    x = means.to(torch.float64)[component] + torch.randn(n_samples, dim, generator=g, dtype=torch.float64)
    return x.to(dtype), labels, means


def bayes_accuracy(x: torch.Tensor, y: torch.Tensor, means: torch.Tensor, classes: int) -> float:
    """Accuracy of the Bayes rule of the mixture: argmax_c log Σ_{k ∈ c} exp(−½‖x − μ_k‖²) (equal weights);
    with one component per class, the nearest mean."""
    log_density = -0.5 * torch.cdist(x.double(), means.double()) ** 2  # n × components
    per_class = log_density.view(len(x), -1, classes).logsumexp(1)  # component k: class k mod classes
    return (per_class.argmax(1) == y).double().mean().item()


BN_SCALE_INITS = ("ones", "uniform")  # γ = 1 (PyTorch's BatchNorm), γ ~ U(0, 1) (Lua Torch's, the paper's era)


class ResidualMLP(nn.Module):
    """N₁ = BN(R(W₁ᵀx)); N_l = λ_l·R(W_lᵀN_{l−1})/σ_l + N_{l−1}, l = 2..L (LW Eq. 22); logits = V N_L + b."""

    def __init__(
        self,
        dim_in: int = 50,
        width: int = 20,
        blocks: int = 10,
        classes: int = 10,
        batch_norm: bool = True,
        bn_shift: bool = True,
        bn_eps: float = 1e-5,
        init_gain: float = 1.0,
        classifier_gain: float = 1.0,
        bn_scale_init: str = "ones",
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ):
        super().__init__()
        if bn_scale_init not in BN_SCALE_INITS:
            raise ValueError(f"bn_scale_init={bn_scale_init!r}: one of {', '.join(BN_SCALE_INITS)}")
        self.batch_norm = batch_norm
        # skip_init: no default initialisation from the global RNG; every weight is drawn from `seed` below
        self.layers = nn.ModuleList(
            [skip_init(nn.Linear, dim_in if l == 0 else width, width, bias=False, dtype=dtype) for l in range(blocks)]
        )
        self.norms = nn.ModuleList()
        if batch_norm:
            for _ in range(blocks):
                bn = nn.BatchNorm1d(width, eps=bn_eps, track_running_stats=False, dtype=dtype)
                bn.bias.requires_grad_(bn_shift)  # β stays 0 when it is not trained
                self.norms.append(bn)
        self.classifier = skip_init(nn.Linear, width, classes, dtype=dtype)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for layer in self.layers:
                fan_in = layer.weight.shape[1]
                layer.weight.copy_(
                    torch.randn(layer.weight.shape, generator=g, dtype=torch.float64) * init_gain / math.sqrt(fan_in)
                )
            self.classifier.weight.copy_(
                torch.randn(self.classifier.weight.shape, generator=g, dtype=torch.float64)
                * classifier_gain
                / math.sqrt(width)
            )
            self.classifier.bias.zero_()
            if batch_norm and bn_scale_init == "uniform":  # drawn last: the weights are those of "ones"
                for bn in self.norms:
                    bn.weight.copy_(torch.rand(width, generator=g, dtype=torch.float64))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """N_L(x): layer 1 (no skip), then the residual blocks 2..L."""
        for l, layer in enumerate(self.layers):
            h = F.relu(layer(x))
            if self.batch_norm:
                h = self.norms[l](h)
            x = h if l == 0 else h + x
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def lambdas(self) -> tuple[torch.Tensor, torch.Tensor]:
        """λ_l, l = 1..L: the mean over units of the BN scale γ, signed and as |γ|."""
        gammas = torch.stack([bn.weight.detach() for bn in self.norms])
        return gammas.mean(1), gammas.abs().mean(1)

    def layer_norms(self) -> torch.Tensor:
        """‖W_l‖_F, l = 1..L."""
        return torch.stack([layer.weight.detach().norm() for layer in self.layers])


def weight_norm(model: ResidualMLP) -> float:
    """‖w‖: the L2 norm of all layer weights W₁..W_L together (LW Eq. 26's w; no biases, BN or classifier)."""
    return model.layer_norms().norm().item()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross entropy and accuracy on (x, y), in one batch (BN uses the set's own statistics)."""
    logits = model(x)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run the block with `threads` intra-op threads (None: as they are), restoring the previous number."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_residual_mlp(
    n_train: int = 10_000,
    n_test: int = 2_000,
    dim: int = 50,
    classes: int = 10,
    separation: float = 0.3,
    components_per_class: int = 1,
    width: int = 20,
    blocks: int = 10,
    batch_norm: bool = True,
    bn_shift: bool = True,
    init_gain: float = 1.0,
    classifier_gain: float = 1.0,
    bn_scale_init: str = "ones",
    epochs: int = 100,
    batch_size: int = 50,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    record_every: int = 10,
    eval_every: int = 200,
    data_seed: int = 0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    threads: int | None = 1,
) -> dict[str, pd.DataFrame]:
    """Train a ResidualMLP by SGD on the Gaussian mixture (LW App. C); record λ_l, ‖w‖ and the loss.

    The train set (seed `data_seed`) and a test set from the same means (seed `data_seed` + 1) are drawn once.
    Weights are initialised from `seed`, the minibatch order (a fresh permutation every epoch, the last
    partial batch kept) from its own generator seeded `seed` + 1, so nets with and without BN that share `seed`
    see the same minibatch sequence. Iteration t counts SGD steps; t = 0 is the initialisation.
    `threads`: torch's intra-op threads while training (restored after; None leaves them). The net is tiny, so
    one thread is fastest (more threads mostly wait on each other) and runs go in parallel, one per core.

    Returns a dict of tidy frames:
      lambdas   iteration, epoch, layer (1..L), lambda, lambda_abs   every `record_every` steps (BN nets only)
      norms     iteration, epoch, w_norm, and norm_1..norm_L (‖W_l‖_F)   every `record_every` steps
      minibatch iteration, epoch, loss   the loss of the minibatch each step t ≥ 1 was taken on
      metrics   iteration, epoch, train_loss, train_acc, test_loss, test_acc   every `eval_every` steps
      summary   one row: the settings, the Bayes accuracies, the final metrics and wall seconds
    Iteration 0 and the last iteration are always recorded.
    """
    if batch_norm and n_train % batch_size == 1:
        raise ValueError(
            f"n_train={n_train}, batch_size={batch_size}: a last minibatch of one sample cannot be batch-normalised"
        )
    settings = {k: v for k, v in locals().items() if k != "threads"}
    start = time.perf_counter()
    x, y, means = gaussian_mixture(n_train, dim, classes, separation, data_seed, components_per_class, dtype=dtype)
    x_test, y_test, _ = gaussian_mixture(
        n_test, dim, classes, separation, data_seed + 1, components_per_class, means=means, dtype=dtype
    )
    model = ResidualMLP(
        dim,
        width,
        blocks,
        classes,
        batch_norm,
        bn_shift,
        init_gain=init_gain,
        classifier_gain=classifier_gain,
        bn_scale_init=bn_scale_init,
        seed=seed,
        dtype=dtype,
    )
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    order = torch.Generator().manual_seed(seed + 1)
    last = epochs * math.ceil(n_train / batch_size)
    lambdas, norms, minibatch, metrics = [], [], [], []

    def snapshot(t: int, epoch: int):
        if t % record_every == 0 or t == last:
            layer_norms = model.layer_norms()
            norms.append(
                {
                    "iteration": t,
                    "epoch": epoch,
                    "w_norm": layer_norms.norm().item(),
                    **{f"norm_{l + 1}": v for l, v in enumerate(layer_norms.tolist())},
                }
            )
            if batch_norm:
                signed, absolute = model.lambdas()
                for l, (s, a) in enumerate(zip(signed.tolist(), absolute.tolist())):
                    lambdas.append({"iteration": t, "epoch": epoch, "layer": l + 1, "lambda": s, "lambda_abs": a})
        if t % eval_every == 0 or t == last:
            train_loss, train_acc = evaluate(model, x, y)
            test_loss, test_acc = evaluate(model, x_test, y_test)
            metrics.append(
                {
                    "iteration": t,
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "train_acc": train_acc,
                    "test_loss": test_loss,
                    "test_acc": test_acc,
                }
            )

    with torch_threads(threads):
        t = 0
        snapshot(t, 0)
        for epoch in range(1, epochs + 1):
            for batch in torch.randperm(n_train, generator=order).split(batch_size):
                loss = F.cross_entropy(model(x[batch]), y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                t += 1
                minibatch.append({"iteration": t, "epoch": epoch, "loss": loss.item()})
                snapshot(t, epoch)

    summary = {
        **settings,
        "dtype": str(dtype),
        "iterations": last,
        "bayes_train_acc": bayes_accuracy(x, y, means, classes),
        "bayes_test_acc": bayes_accuracy(x_test, y_test, means, classes),
        **{f"final_{k}": v for k, v in metrics[-1].items() if k not in ("iteration", "epoch")},
        "wall_s": time.perf_counter() - start,
    }
    return {
        "lambdas": pd.DataFrame(lambdas, columns=["iteration", "epoch", "layer", "lambda", "lambda_abs"]),
        "norms": pd.DataFrame(norms),
        "minibatch": pd.DataFrame(minibatch),
        "metrics": pd.DataFrame(metrics),
        "summary": pd.DataFrame([summary]),
    }


def train_many(settings: list[dict], threads: int = 1) -> list[dict[str, pd.DataFrame]]:
    """train_residual_mlp(**s) for each s of `settings`, in order: one at a time on one thread, or `threads` at a
    time, each in a fresh Python process of one thread (the nets are tiny: runs, not threads, use the cores; a
    fresh interpreter, as a forked one can hang on the caller's thread pools and a spawned one re-runs the calling
    script). Each run depends only on its settings, so the records are the same either way."""
    if threads <= 1 or len(settings) <= 1:
        return [train_residual_mlp(**s, threads=1) for s in settings]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(_train_in_a_process, settings))


def _train_in_a_process(settings: dict) -> dict[str, pd.DataFrame]:
    """train_residual_mlp(**settings) in `python -m plainres.simulate.residual_mlp`, pickled in and out."""
    done = subprocess.run(
        [sys.executable, "-m", __name__], input=pickle.dumps(settings), capture_output=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"training the MLP with {settings} failed:\n{done.stderr.decode(errors='replace')}")
    return pickle.loads(done.stdout)


if __name__ == "__main__":  # one run for train_many: settings pickled on stdin, the record pickled to stdout
    sys.stdout.buffer.write(pickle.dumps(train_residual_mlp(**pickle.load(sys.stdin.buffer), threads=1)))
