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
- float64 by default; one intra-op thread (the net is tiny). The runs of a figure (seeds, lrs) train together as one
  batched net (`train_together`), each as it would alone.
"""

from __future__ import annotations

import contextlib
import inspect
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
from torch.func import stack_module_state
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

    def stacked(self) -> dict[str, torch.Tensor]:
        """Its parameters by name, each with a leading axis of one net (the form of `stacked_logits`)."""
        return {name: p[None] for name, p in self.named_parameters()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = self.norms[0].eps if self.batch_norm else 0.0
        return stacked_logits(self.stacked(), x[None], len(self.layers), self.batch_norm, eps)[0]

    def lambdas(self) -> tuple[torch.Tensor, torch.Tensor]:
        """λ_l, l = 1..L: the mean over units of the BN scale γ, signed and as |γ|."""
        signed, absolute = stacked_lambdas(self.stacked(), len(self.layers))
        return signed[0], absolute[0]

    def layer_norms(self) -> torch.Tensor:
        """‖W_l‖_F, l = 1..L."""
        return stacked_layer_norms(self.stacked(), len(self.layers))[0]


def stacked_logits(
    params: dict[str, torch.Tensor], inputs: torch.Tensor, blocks: int, batch_norm: bool, bn_eps: float
) -> torch.Tensor:
    """LW Eq. 22 for K nets at once: `params` by ResidualMLP's names, each K × …; inputs K × B × dim → K × B ×
    classes. Layer 1 (no skip), then the residual blocks 2..L, a batched matrix product each; BN normalises the
    K·width units side by side, each over its own net's B samples (no running statistics); then the classifier."""
    k, b = inputs.shape[:2]
    h = inputs
    for l in range(blocks):
        a = F.relu(torch.bmm(h, params[f"layers.{l}.weight"].transpose(1, 2)))
        if batch_norm:
            gamma, beta = params[f"norms.{l}.weight"], params[f"norms.{l}.bias"]
            units = F.batch_norm(
                a.transpose(0, 1).reshape(b, -1), None, None, gamma.flatten(), beta.flatten(), training=True, eps=bn_eps
            )  # B × (K·width)
            a = units.view(b, k, -1).transpose(0, 1)
        h = a if l == 0 else a + h
    return torch.baddbmm(params["classifier.bias"][:, None, :], h, params["classifier.weight"].transpose(1, 2))


def stacked_lambdas(params: dict[str, torch.Tensor], blocks: int) -> tuple[torch.Tensor, torch.Tensor]:
    """λ_l of K nets (K × L): the mean over units of each BN scale γ, signed and as |γ|."""
    gammas = torch.stack([params[f"norms.{l}.weight"].detach() for l in range(blocks)], 1)  # K × L × width
    return gammas.mean(2), gammas.abs().mean(2)


def stacked_layer_norms(params: dict[str, torch.Tensor], blocks: int) -> torch.Tensor:
    """‖W_l‖_F of K nets (K × L)."""
    return torch.stack(
        [torch.linalg.vector_norm(params[f"layers.{l}.weight"].detach(), dim=(1, 2)) for l in range(blocks)], 1
    )


def weight_norm(model: ResidualMLP) -> float:
    """‖w‖: the L2 norm of all layer weights W₁..W_L together (LW Eq. 26's w; no biases, BN or classifier)."""
    return model.layer_norms().norm().item()


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
    see the same minibatch sequence. Iteration t counts SGD steps; t = 0 is the initialisation. SGD is
    torch.optim.SGD's (momentum buffer b ← μ·b + g + wd·w from b = g + wd·w, then w ← w − lr·b).
    `threads`: torch's intra-op threads while training (restored after; None leaves them). The net is tiny, so
    one thread is fastest (more threads mostly wait on each other).

    Returns a dict of tidy frames:
      lambdas   iteration, epoch, layer (1..L), lambda, lambda_abs   every `record_every` steps (BN nets only)
      norms     iteration, epoch, w_norm, and norm_1..norm_L (‖W_l‖_F)   every `record_every` steps
      minibatch iteration, epoch, loss   the loss of the minibatch each step t ≥ 1 was taken on
      metrics   iteration, epoch, train_loss, train_acc, test_loss, test_acc   every `eval_every` steps
      summary   one row: the settings, the Bayes accuracies, the final metrics, and the wall seconds and number
                of runs (`trained_with`) of the batch it trained in (train_together)
    Iteration 0 and the last iteration are always recorded.
    """
    settings = {k: v for k, v in locals().items() if k != "threads"}
    return train_together([settings], threads)[0]


DEFAULTS = {
    name: p.default for name, p in inspect.signature(train_residual_mlp).parameters.items() if name != "threads"
}
OWN = ("lr", "seed", "data_seed")  # what the runs trained together may differ in


def train_together(settings: list[dict], threads: int | None = 1) -> list[dict[str, pd.DataFrame]]:
    """train_residual_mlp(**s) for every s of `settings` (each complete: every key of DEFAULTS), which differ only
    in OWN, trained as one batch: the runs' parameters stacked, one batched forward and backward a step, each run
    on its own data and minibatches. A run's record is that of training it alone, to rounding (1e-15 relative
    after 8,000 steps: docs/targets.md)."""
    shared = {k: v for k, v in settings[0].items() if k not in OWN}
    if any({k: v for k, v in s.items() if k not in OWN} != shared for s in settings):
        raise ValueError(f"the MLPs trained together may differ only in {', '.join(OWN)}")
    n, b, blocks, dtype = shared["n_train"], shared["batch_size"], shared["blocks"], shared["dtype"]
    if shared["batch_norm"] and n % b == 1:
        raise ValueError(f"n_train={n}, batch_size={b}: a last minibatch of one sample cannot be batch-normalised")
    start = time.perf_counter()
    k = len(settings)
    lr = torch.tensor([s["lr"] for s in settings], dtype=dtype)
    mixture = (shared["dim"], shared["classes"], shared["separation"])
    sets = []
    for s in settings:
        x, y, means = gaussian_mixture(n, *mixture, s["data_seed"], shared["components_per_class"], dtype=dtype)
        x_test, y_test, _ = gaussian_mixture(
            shared["n_test"], *mixture, s["data_seed"] + 1, shared["components_per_class"], means=means, dtype=dtype
        )
        sets.append((x, y, x_test, y_test, means))
    x, y, x_test, y_test = (torch.stack([t[i] for t in sets]) for i in range(4))
    models = [
        ResidualMLP(
            shared["dim"],
            shared["width"],
            blocks,
            shared["classes"],
            shared["batch_norm"],
            shared["bn_shift"],
            init_gain=shared["init_gain"],
            classifier_gain=shared["classifier_gain"],
            bn_scale_init=shared["bn_scale_init"],
            seed=s["seed"],
            dtype=dtype,
        )
        for s in settings
    ]
    params, _ = stack_module_state(models)  # name → K × …; β stays untrained where each run's is
    trained = {name: p for name, p in params.items() if p.requires_grad}
    bn_eps = models[0].norms[0].eps if shared["batch_norm"] else 0.0

    def batched_logits(inputs: torch.Tensor) -> torch.Tensor:
        return stacked_logits(params, inputs, blocks, shared["batch_norm"], bn_eps)

    orders = [torch.Generator().manual_seed(s["seed"] + 1) for s in settings]
    last = shared["epochs"] * math.ceil(n / b)
    records = [{"lambdas": [], "norms": [], "minibatch": [], "metrics": []} for _ in settings]
    momentum_buffers: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def evaluate(inputs, labels) -> tuple[list[float], list[float]]:
        logits = batched_logits(inputs)  # BN: each set's own statistics
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(k, -1).mean(1)
        return loss.tolist(), (logits.argmax(2) == labels).double().mean(1).tolist()

    def snapshot(t: int, epoch: int):
        if t % shared["record_every"] == 0 or t == last:
            for record, norms in zip(records, stacked_layer_norms(params, blocks)):
                record["norms"].append(
                    {
                        "iteration": t,
                        "epoch": epoch,
                        "w_norm": norms.norm().item(),
                        **{f"norm_{l + 1}": v for l, v in enumerate(norms.tolist())},
                    }
                )
            if shared["batch_norm"]:
                signed, absolute = stacked_lambdas(params, blocks)
                for record, sk, ak in zip(records, signed.tolist(), absolute.tolist()):
                    record["lambdas"] += [
                        {"iteration": t, "epoch": epoch, "layer": l + 1, "lambda": sl, "lambda_abs": al}
                        for l, (sl, al) in enumerate(zip(sk, ak))
                    ]
        if t % shared["eval_every"] == 0 or t == last:
            train = evaluate(x, y)
            test = evaluate(x_test, y_test)
            for kk, record in enumerate(records):
                record["metrics"].append(
                    {
                        "iteration": t,
                        "epoch": epoch,
                        "train_loss": train[0][kk],
                        "train_acc": train[1][kk],
                        "test_loss": test[0][kk],
                        "test_acc": test[1][kk],
                    }
                )

    def sgd_step():
        """torch.optim.SGD's update (dampening 0, not Nesterov), each run at its own lr."""
        with torch.no_grad():
            for name, p in trained.items():
                grad = p.grad if not shared["weight_decay"] else p.grad.add(p, alpha=shared["weight_decay"])
                if shared["momentum"]:
                    if name in momentum_buffers:
                        grad = momentum_buffers[name].mul_(shared["momentum"]).add_(grad)
                    else:
                        grad = momentum_buffers.setdefault(name, grad.clone())
                p.sub_(lr.view(k, *[1] * (p.dim() - 1)) * grad)
                p.grad = None

    def step_loss(batch: torch.Tensor) -> torch.Tensor:
        """Each run's minibatch-mean cross entropy on its own minibatch (batch: K × B indices)."""
        inputs = x.gather(1, batch[..., None].expand(-1, -1, x.shape[2]))
        logits = batched_logits(inputs)
        return F.cross_entropy(logits.flatten(0, 1), y.gather(1, batch).flatten(), reduction="none").view(k, -1).mean(1)

    with torch_threads(threads):
        t = 0
        snapshot(t, 0)
        for epoch in range(1, shared["epochs"] + 1):
            permutations = torch.stack([torch.randperm(n, generator=g) for g in orders])
            for batch in permutations.split(b, dim=1):
                losses = step_loss(batch)
                losses.sum().backward()  # each run's gradient is its own loss's: the others do not depend on it
                sgd_step()
                t += 1
                for record, loss in zip(records, losses.tolist()):
                    record["minibatch"].append({"iteration": t, "epoch": epoch, "loss": loss})
                snapshot(t, epoch)

    wall = time.perf_counter() - start
    out = []
    for s, record, (xs, ys, xts, yts, means) in zip(settings, records, sets):
        summary = {
            **s,
            "dtype": str(dtype),
            "iterations": last,
            "bayes_train_acc": bayes_accuracy(xs, ys, means, shared["classes"]),
            "bayes_test_acc": bayes_accuracy(xts, yts, means, shared["classes"]),
            **{f"final_{key}": v for key, v in record["metrics"][-1].items() if key not in ("iteration", "epoch")},
            "wall_s": wall,
            "trained_with": k,
        }
        out.append(
            {
                "lambdas": pd.DataFrame(
                    record["lambdas"], columns=["iteration", "epoch", "layer", "lambda", "lambda_abs"]
                ),
                "norms": pd.DataFrame(record["norms"]),
                "minibatch": pd.DataFrame(record["minibatch"]),
                "metrics": pd.DataFrame(record["metrics"]),
                "summary": pd.DataFrame([summary]),
            }
        )
    return out


def train_many(settings: list[dict], threads: int = 1) -> list[dict[str, pd.DataFrame]]:
    """train_residual_mlp(**s) for each s of `settings` (missing keys at their defaults), in order. The runs that
    differ only in lr, seed and data_seed train together (train_together), cut into `threads` batches that train
    at once, each in a fresh Python process of one thread (the nets are tiny: batches, not threads, use the cores;
    a fresh interpreter, as a forked one can hang on the caller's thread pools and a spawned one re-runs the
    calling script). Each run depends only on its settings, so the records are the same either way."""
    complete = [{**DEFAULTS, **s} for s in settings]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(complete):
        groups.setdefault(repr(sorted((k, v) for k, v in s.items() if k not in OWN)), []).append(i)
    parts = max(1, threads)
    batches = [members[j::parts] for members in groups.values() for j in range(min(parts, len(members)))]
    jobs = [[complete[i] for i in batch] for batch in batches]
    if len(jobs) == 1 or threads <= 1:
        results = [train_together(job, threads=1) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(_train_in_a_process, jobs))
    records: list = [None] * len(settings)
    for batch, result in zip(batches, results):
        for i, record in zip(batch, result):
            records[i] = record
    return records


def _train_in_a_process(settings: list[dict]) -> list[dict[str, pd.DataFrame]]:
    """train_together(settings) in `python -m plainres.simulate.residual_mlp`, pickled in and out."""
    done = subprocess.run(
        [sys.executable, "-m", __name__], input=pickle.dumps(settings), capture_output=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"training the MLPs {settings} failed:\n{done.stderr.decode(errors='replace')}")
    return pickle.loads(done.stdout)


if __name__ == "__main__":  # one batch for train_many: settings pickled on stdin, the records pickled to stdout
    sys.stdout.buffer.write(pickle.dumps(train_together(pickle.load(sys.stdin.buffer), threads=1)))
