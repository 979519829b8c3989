"""A run's identity and its training recipe: what a job trains, with no torch in sight, so that planning
(grid.py) names runs without importing the engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

DTYPES = ("float32", "float64")
COMPILE = ("auto", "on", "off")  # the modes of `compile`, `compile_eval` and `channels_last`
# `eval_batch_size: auto` per device type: on a CPU the fastest measured (bench/bench_eval.py); on a GPU a batch
# that divides both CIFAR sets, one graph for a compiled evaluation (evaluation.py)
EVAL_BATCH_SIZE = {"cpu": 125, "cuda": 1000}
INITS = ("kwi", "hmwi", "t-hmwi")


@dataclass(frozen=True)
class Run:
    """One run's identity. init 't-hmwi' is a plain net started at t₀ = T(r₀), r₀ ~ HMWI (YT Eq. 2)."""

    arch: str
    net: str
    depth: int
    init: str
    seed: int
    data_seed: int | None = None  # None: the init seed, so paired plain/residual runs share data

    @property
    def data_seed_(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed

    @property
    def run_id(self) -> str:
        ds = "" if self.data_seed is None or self.data_seed == self.seed else f"-ds{self.data_seed}"
        return f"{self.arch}-{self.net}-d{self.depth}-{self.init}-s{self.seed}{ds}"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that shapes training; the workflow fills it from config.yaml."""

    epochs: int
    lr: float
    milestones: tuple[int, ...] = ()
    lr_factor: float = 0.1
    batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 1e-4
    decay_on_T_inverse: bool = False
    dtype: str = "float32"
    bf16: bool = False
    channels_last: str = "auto"  # train in NHWC strides: auto (float32 on a CPU), on, off (step.in_channels_last)
    crop_padding: int = 4
    flip: bool = True
    eval_every: int = 1
    eval_batch_size: int | str = "auto"  # images per evaluation forward; auto: per device (EVAL_BATCH_SIZE)
    snapshot_epochs: tuple[int, ...] = (0, -2, -1)  # negative: counted from the end, -1 = last
    snapshot_iterations: tuple[int, ...] = (1,)
    snapshot_every: int = 0  # also every k-th epoch from 0 (0: off); LW App. C reads every epoch
    train_subset: int | None = None
    test_subset: int | None = None
    deterministic: bool = True  # on CUDA: deterministic algorithms and kernels (train.device_numerics)
    tf32: bool = False  # on CUDA: TF32 in matmuls and convolutions (10-bit mantissa); off: float32 is float32
    log_iterations: bool = False  # every minibatch loss to iterations.csv (YT Fig 6)
    capture_final_grad_epochs: int = 0  # ∂L/∂a⁽ᴸ⁾ of every sample in epochs 1..n (YT Fig 10)
    compile: str = "auto"  # the training step through torch.compile: auto (on CUDA only), on, off (step.py)
    compile_eval: str = "auto"  # the evaluation through torch.compile: auto (on CUDA only), on, off (evaluation.py)

    def __post_init__(self):
        checks = [
            (self.epochs >= 1, "epochs must be ≥ 1"),
            (self.lr > 0, "lr must be > 0"),
            (self.batch_size >= 1, "batch_size must be ≥ 1"),
            (self.eval_every >= 1, "eval_every must be ≥ 1"),
            (self.weight_decay >= 0, "weight_decay must be ≥ 0"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (self.dtype in DTYPES, f"dtype must be one of {list(DTYPES)}"),
            (not (self.bf16 and self.dtype == "float64"), "bf16 autocast and float64 exclude each other"),
            (self.crop_padding >= 0, "crop_padding must be ≥ 0"),
            (self.capture_final_grad_epochs >= 0, "capture_final_grad_epochs must be ≥ 0"),
            (self.snapshot_every >= 0, "snapshot_every must be ≥ 0"),
            (
                all(-self.epochs - 1 <= e <= self.epochs for e in self.snapshot_epochs),
                f"snapshot_epochs {list(self.snapshot_epochs)}: a run of {self.epochs} epochs has epochs "
                f"0..{self.epochs} (or −1..−{self.epochs + 1}, counted from the end)",
            ),
            (all(i >= 1 for i in self.snapshot_iterations), "snapshot_iterations must be ≥ 1"),
            (
                all(n is None or n >= 1 for n in (self.train_subset, self.test_subset)),
                "train_subset and test_subset must be ≥ 1 (or null: all the data)",
            ),
            (self.compile in COMPILE, f"compile must be one of {list(COMPILE)}"),
            (self.compile_eval in COMPILE, f"compile_eval must be one of {list(COMPILE)}"),
            (
                self.eval_batch_size == "auto" or (type(self.eval_batch_size) is int and self.eval_batch_size >= 1),
                "eval_batch_size must be ≥ 1, or auto (per device)",
            ),
            (self.channels_last in COMPILE, f"channels_last must be one of {list(COMPILE)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"train config: {message}")

    def to_dict(self) -> dict:
        """The fields that differ from their defaults: a job's identity, so a field added later with a
        default that keeps behaviour changes no job's parameters and invalidates no checkpoint."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.default is dataclasses.MISSING or getattr(self, f.name) != f.default
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """From JSON/YAML, where tuples arrive as lists (and `on`/`off` may arrive as booleans); missing fields
        take their defaults."""
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        for key in ("compile", "compile_eval", "channels_last"):
            if isinstance(d.get(key), bool):  # YAML 1.1 reads a bare `compile: on` as true
                d[key] = "on" if d[key] else "off"
        return cls(**d)

    def lr_at(self, epoch: int) -> float:
        """lr for 1-based `epoch`: divided by 1/lr_factor after each milestone epoch."""
        return self.lr * self.lr_factor ** sum(epoch > m for m in self.milestones)

    def eval_batch(self, device) -> int:
        """Images per evaluation forward on `device` (a torch.device or its type)."""
        kind = getattr(device, "type", device)
        return (
            EVAL_BATCH_SIZE.get(kind, EVAL_BATCH_SIZE["cpu"])
            if self.eval_batch_size == "auto"
            else self.eval_batch_size
        )

    def evaluates(self, epoch: int) -> bool:
        """Whether the run is evaluated after 1-based `epoch` (every eval_every-th, and the last)."""
        return epoch % self.eval_every == 0 or epoch == self.epochs

    def evaluated_epochs(self) -> list[int]:
        """The epochs whose end (0: the initialisation) leaves a row of metrics.csv."""
        return [0] + [e for e in range(1, self.epochs + 1) if self.evaluates(e)]

    def resolve_epochs(self, epochs) -> set[int]:
        return {e if e >= 0 else self.epochs + 1 + e for e in epochs}

    def batches(self, n_train: int) -> int:
        """Minibatches, and SGD steps, per epoch on `n_train` images (the last one may be short)."""
        return -(-n_train // self.batch_size)

    def iterations(self, n_train: int) -> int:
        """SGD steps of the whole run on `n_train` images."""
        return self.epochs * self.batches(n_train)

    def snapshot_epochs_resolved(self) -> set[int]:
        """The epochs whose end (0: the initialisation) leaves a snapshot epoch_<e>.pt."""
        every = set(range(0, self.epochs + 1, self.snapshot_every)) if self.snapshot_every else set()
        return self.resolve_epochs(self.snapshot_epochs) | every
