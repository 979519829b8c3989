"""The target registry: every table and figure of the two papers that the pipeline builds, declared once.

Everything else is derived from `TARGETS`:
- the rules (workflow/rules/targets.smk: one per target, its files from its `kind` and `source`), `rule all`
  and the report's categories;
- the scorecard's inputs: the published numbers (tables, and figures with a `summary`), each target's claims and
  the files they weigh, the runs they name when some diverged;
- the config's schema (each target's `schema`, in its section) and checks (`configuration.check`): what each
  target reads exists, is trained, and records what it needs.

Functions are named as "module:function" and imported when used, so that planning (the Snakefile, `grid`) does
not import pandas or matplotlib.

Adding a target: an entry here, its function, its claims, its settings in config.yaml, its row and section in
docs/targets.md (and its numbers in published.yaml, where the paper gives them); docs/architecture.md, "Adding
a target", lists them by kind, with an example of each.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("table", "figure")
SOURCES = ("runs", "nets", "simulation")


@dataclass(frozen=True)
class Target:
    """One table or figure: its rule, files, caption, the function that makes it, its claims and settings."""

    name: str  # the rule, the files' stem, the key in published.yaml and in the claims (`name.claim`)
    paper: str  # what it reproduces ("YT Table 1")
    kind: str  # "table": CSV, Markdown and LaTeX in results/tables/; "figure": PNG, PDF, CSV in results/figures/
    # "runs": tabulated or drawn from the runs' metrics; "nets": measures the trained nets (both through
    # workflow/scripts/from_training.py); "simulation": needs no training (workflow/scripts/simulate.py)
    source: str
    caption: str
    settings: str | None = None  # its entry in config.yaml ("figures.yt_fig3"); a table from runs has `table`
    schema: dict | None = None  # the JSON schema of that entry (`entry(…)`, below)
    table: dict | None = None  # a table from runs: the experiments it reads, the quantities (and nets) it shows
    # "module:function" that makes it: from training f(done, spec, images) → Made (a table from runs:
    # tables.from_runs); a simulation f(spec, threads) → (figure, plotted data)
    make: str | None = None
    # the part of its config entry it reads, f(entry, resolved config) (default: all of the entry)
    select: Callable[[dict, dict], dict] | None = None
    claims: str | None = None  # "module:function": claims(data, spec) → [evidence.Row]
    weighs: tuple[str, ...] = ("runs",)  # the files its claims read: its own outputs, or "<target>.<output>"
    published: bool = False  # published.yaml holds the paper's numbers under its name
    summary: str | None = None  # a figure's published numbers: "module:function", f(plotted data, spec) → summary
    measured: dict[str, str] = field(default_factory=dict)  # more per-seed files: output → results/measures/<name>/…
    data: bool = False  # reads the training images
    parallel: bool = False  # uses every core Snakemake gives it
    arch: str | None = None  # the architecture its experiments must train
    requires: tuple[Callable, str] | None = None  # what its runs must record: (test of a TrainConfig, in words)
    check: Callable[[dict], str | None] | None = None  # its settings' own check: an error "<key>: <why>", or None
    aliases: tuple[str, ...] = ()  # other names of the same result (YT Fig 8 is Fig 2)

    def __post_init__(self):
        if self.kind not in KINDS or self.source not in SOURCES:
            raise ValueError(f"target {self.name}: kind {self.kind!r}, source {self.source!r}")
        if (self.table is None) == (self.settings is None) and self.source != "simulation":
            raise ValueError(f"target {self.name}: a target from training has `table` or `settings`, not both")

    # ---- files

    def outputs(self) -> dict[str, str]:
        """Its files, by output name."""
        if self.kind == "table":
            out = {f: f"results/tables/{self.name}.{f}" for f in ("csv", "md", "tex")}
        else:
            out = {f: f"results/figures/{self.name}.{f}" for f in ("png", "pdf", "csv")}
        for name, file in self.measured.items():
            out[name] = f"results/measures/{self.name}/{file}"
        if self.source != "simulation":  # the runs it read, with their status (a figure from runs: their curves)
            runs = "curves.csv" if (self.source, self.kind) == ("runs", "figure") else "runs.csv"
            out["runs"] = f"results/measures/{self.name}/{runs}"
        return out

    def script_name(self) -> str:
        """The script in workflow/scripts/ that runs its function and writes what it makes."""
        return "simulate.py" if self.source == "simulation" else "from_training.py"

    def category(self) -> str:
        """Its section of the report."""
        return "Simulations" if self.source == "simulation" else f"{self.kind.capitalize()}s"

    # ---- settings and what it reads

    def spec(self, config: dict) -> dict | None:
        """Its settings in the resolved config (a table from runs: its `table`)."""
        if self.settings is None:
            return self.table
        section, key = self.settings.split(".")
        entry = config[section][key]
        return self.select(entry, config) if self.select else entry

    def experiments(self, spec: dict) -> list[str]:
        """Every experiment it names, in order (LW App. C: each dataset's, whether or not its data has a source)."""
        if "panels" in spec:  # one experiment per panel (Fig 12)
            return list(dict.fromkeys(panel["experiment"] for panel in spec["panels"].values()))
        if "experiments" in spec:  # one per dataset (LW App. C), or a table's
            return list(spec["experiments"])
        return [spec["experiment"]]

    def reads(self, spec: dict) -> list[tuple[str, dict, str | None]]:
        """What it reads, for the config checks: (key below its settings, {experiment, depth(s), seed(s),
        layer}, the architecture the experiment must train)."""
        if "panels" in spec:  # each panel: its own architecture; the seeds are the target's
            return [(f".panels.{arch}", panel, arch) for arch, panel in spec["panels"].items()] + [
                (".seeds", {**panel, "seed": spec["seeds"] - 1}, None) for panel in spec["panels"].values()
            ]
        if "experiments" in spec:
            return [
                (".experiments", {**spec, "experiment": e, "seed": spec["seeds"] - 1}, self.arch)
                for e in spec["experiments"]
            ]
        return [("", spec, self.arch)]

    def requiring(self, spec: dict) -> list[tuple[str, str]]:
        """(key below its settings, experiment) for each experiment whose runs must record what it `requires`."""
        reads = self.reads(spec)
        return list(dict.fromkeys((below, read["experiment"]) for below, read, _ in reads if below != ".seeds"))

    # ---- functions

    def function(self, role: str) -> Callable:
        """The function named by `make`, `claims` or `summary`, imported."""
        ref = getattr(self, role)
        if ref is None:
            raise ValueError(f"target {self.name} has no {role}")
        module, name = ref.split(":")
        return getattr(importlib.import_module(module), name)


@dataclass
class Made:
    """What a target from training makes from the runs its jobs recorded: the runs it read (the provenance and the
    caption's diverged runs come from them; written as its runs file), its figure or its table, and the per-seed
    files its claims weigh. workflow/scripts/from_training.py writes them."""

    read: pd.DataFrame
    figure: tuple | None = None  # (the figure, the numbers it plots)
    summary: pd.DataFrame | None = None  # a table: one row per (net, depth, quantity): mean, sd, n, diverged
    quantities: list[str] = field(default_factory=list)  # the table's quantities, in order
    columns: list[str] | None = None  # a table of quantities (rows) by these nets (columns); None: by depth
    files: dict[str, pd.DataFrame] = field(default_factory=dict)  # `measured` output → its frame


# ---- the JSON schema of a target's settings (config.yaml), checked with the schema of the rest of the config
# (configuration.validate; workflow/schemas/config.schema.yaml's $defs: positive, depths)

STRING, INTEGER, POSITIVE, DEPTHS = (
    {"type": "string"},
    {"type": "integer"},
    {"$ref": "#/$defs/positive"},
    {"$ref": "#/$defs/depths"},
)
IMAGES = {"type": ["integer", "null"], "minimum": 1}  # the first n training images, or null: all


def at_least(minimum: int, kind: str = "integer") -> dict:
    return {"type": kind, "minimum": minimum}


def entry(optional: dict | None = None, **required: dict) -> dict:
    """An object with exactly these keys, each `required` one present."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


ARCH = {"enum": ["simplified", "dominant", "dominant-full-lower", "fully-fledged"]}
FIG12_PANEL = entry(
    experiment=STRING, depth=INTEGER, ratio_layers={"type": "array", "minItems": 1, "items": at_least(1)}
)
MLP_NET = entry(
    optional={"bn_scale_init": {"enum": ["ones", "uniform"]}},
    lr=POSITIVE,
    init_gain=POSITIVE,
    sweep={"type": "array", "minItems": 1, "items": POSITIVE},
)
LOG_GRID = entry(**{"from": {"type": "number"}, "to": {"type": "number"}, "points": at_least(2)})  # logspace, decades
LW_MLP = entry(
    common=entry(
        optional={"components_per_class": at_least(1), "bn_shift": {"type": "boolean"}, "classifier_gain": POSITIVE},
        n_train=at_least(2),
        n_test=at_least(2),
        dim=at_least(1),
        classes=at_least(2),
        separation=POSITIVE,
        width=at_least(1),
        blocks=at_least(1),
        epochs=at_least(1),
        batch_size=at_least(2),
        momentum={"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        weight_decay=at_least(0, "number"),
        record_every=at_least(1),
        eval_every=at_least(1),
    ),
    seeds=at_least(1),
    bn=MLP_NET,
    no_bn=MLP_NET,
    stages=at_least(2),
)


def _ratio_layers(spec: dict) -> str | None:
    for arch, panel in spec["panels"].items():
        if max(panel["ratio_layers"]) > panel["depth"] - 1:
            return f"panels.{arch}.ratio_layers: a depth-{panel['depth']} net has layers 1..{panel['depth'] - 1}"
    return None


def _cushion_block(spec: dict) -> str | None:
    blocks = (spec["depth"] - 2) // 2
    if spec["block"] > blocks:
        return f"block: a depth-{spec['depth']} fully-fledged net has blocks 1..{blocks}, not {spec['block']}"
    return None


def _mlp(net: str) -> Callable[[dict, dict], dict]:
    """LW Fig 1(d) and 1(e) read the shared residual-MLP settings, their own net's, and the seeds' offset."""
    return lambda mlp, config: {
        "common": mlp["common"],
        net: mlp[net],
        "stages": mlp["stages"],
        "seeds": mlp["seeds"],
        "seed_offset": config["seed_offset"],
    }


YT, LW = "plainres.scorecard.claims_yt", "plainres.scorecard.claims_lw"
TABLE, CURVES, MEASURE = "plainres.tables:from_runs", "plainres.figures.curves", "plainres.measures.builders"
SIMULATE, SUMMARY = "plainres.simulate.builders", "plainres.scorecard.render"

# In the papers' order; the scorecard lists them so.
_DECLARED = [
    # ---------------------------------------------------------------- Yu & Tomasi: tables
    Target(
        "yt_table1",
        "YT Table 1",
        "table",
        "runs",
        "YT Table 1: training loss L, cost C and test error E after training; "
        "plain nets KWI, residual nets HMWI; mean ± sd over seeds (n).",
        table={"experiments": ["table1"], "quantities": ["L", "C", "E"]},
        make=TABLE,
        claims=f"{YT}:claims_table1",
        published=True,
    ),
    Target(
        "yt_table2",
        "YT Table 2",
        "table",
        "runs",
        "YT Table 2: plain nets started at T(r₀) with weight decay on T⁻¹(p) vs residual nets "
        "started at r₀ (HMWI), same seeds and minibatches, float64; mean ± sd over seeds (n).",
        table={"experiments": ["table2"], "quantities": ["L", "C", "E"]},
        make=TABLE,
        claims=f"{YT}:claims_table2",
        published=True,
    ),
    Target(
        "yt_table3",
        "YT Table 3",
        "table",
        "nets",
        "YT Table 3: mean, sd and L1 mass (all weights, |w| ≥ threshold, ID entries) of the plain "
        "nets' weights p and of the residual nets' weights seen as a plain net, t = T(r), at initialisation (_0) "
        "and after the last epoch (_end; the paper's p_200, t_200); mean ± sd over seeds (n).",
        settings="tables.yt_table3",
        schema=entry(experiment=STRING, depth=INTEGER, threshold=POSITIVE),
        make=f"{MEASURE}:yt_table3",
        claims=f"{YT}:claims_table3",
        weighs=("weights",),
        published=True,
        measured={"weights": "weights.csv"},
    ),
    Target(
        "yt_table4",
        "YT Table 4",
        "table",
        "runs",
        "YT Table 4: training loss L and weight regularisation (λ/2)·‖w‖²/batch before and "
        "after training, from the Table 1 runs; mean ± sd over seeds (n).",
        table={"experiments": ["table1"], "quantities": ["L_before", "reg_before", "L", "reg"]},
        make=TABLE,
        claims=f"{YT}:claims_table4",
        published=True,
    ),
    Target(
        "yt_table5",
        "YT Table 5",
        "table",
        "runs",
        "YT Table 5: nets with only the dominant paths T′ (within-group kernels diagonal, "
        "channel-doubling kernels two stacked diagonals; HMWI), the variant whose doubling kernels "
        "have a full lower half, and the residual nets of Table 2; mean ± sd over seeds (n).",
        table={
            "experiments": ["table5", "table5_full_lower", "table2"],
            "nets": ["residual", "dominant", "dominant-full-lower"],
            "quantities": ["L", "E"],
        },
        make=TABLE,
        claims=f"{YT}:claims_table5",
        # T′ against residual nets trained alike: Table 1's (float32, the same images and epochs), not only Table 2's
        weighs=("runs", "yt_table1.runs"),
        published=True,
    ),
    Target(
        "yt_cushion_full",
        "YT §4, the interlayer cushion",
        "table",
        "nets",
        "YT §4: per-sample interlayer cushion μ(x) = √n ‖J x‖ / ‖J‖_F / ‖x‖ of one block (J its "
        "Jacobian at its input x, n = the size of x) of trained fully-fledged plain and residual nets (BN in "
        "eval mode), over their training images: mean and sd over images, and the standard errors (_se, "
        "jackknife) that estimating ‖J‖_F from random projections leaves in them; then mean ± sd over seeds (n).",
        settings="tables.yt_cushion_full",
        schema=entry(
            experiment=STRING, depth=INTEGER, block=at_least(1), seeds=at_least(1), probes=at_least(2), images=IMAGES
        ),
        make=f"{MEASURE}:yt_cushion_full",
        claims=f"{YT}:claims_cushion_full",
        weighs=("samples",),
        published=True,
        measured={"samples": "cushion.csv"},
        data=True,
        parallel=True,
        arch="fully-fledged",
        check=_cushion_block,
    ),
    # ---------------------------------------------------------------- Yu & Tomasi: figures
    Target(
        "yt_fig2",
        "YT Figs 2 and 8",
        "figure",
        "runs",
        "YT Figs 2 and 8: training loss L (log scale) and test error E against epoch, plain nets "
        "(KWI, blue) and residual nets (HMWI, red); thick lines are means over seeds, error bars ±1 sd. "
        "The epoch at which each mean first reaches the loss of Fig 8(a) is written in the left panel.",
        settings="figures.yt_fig2",
        schema=entry(experiment=STRING, depth=INTEGER, reach_loss=POSITIVE),
        make=f"{CURVES}:yt_fig2",
        claims=f"{YT}:claims_fig2",
        aliases=("yt_fig8",),
    ),
    Target(
        "yt_fig3",
        "YT Fig 3",
        "figure",
        "nets",
        "YT Fig 3: histograms of the per-sample layer cushion μ(x) = ‖Ax‖ / ‖A‖_F / ‖x‖ over the "
        "training images, at one layer of trained plain (KWI, blue) and residual (HMWI, red) nets, one panel per "
        "depth. A is the layer's convolution as a linear operator (every output position counted); for residual "
        "nets Ax is the whole layer, x + conv_r(x), and ‖A‖_F that of r alone. Legends: mean ± sd of μ and the "
        "net's test error E.",
        settings="figures.yt_fig3",
        schema=entry(experiment=STRING, depths=DEPTHS, layer=at_least(1), seeds=at_least(1), images=IMAGES),
        make=f"{MEASURE}:yt_fig3",
        claims=f"{YT}:claims_fig3",
        weighs=("samples",),
        measured={"samples": "cushion.csv"},
        data=True,
        parallel=True,
    ),
    Target(
        "yt_fig4",
        "YT Fig 4",
        "figure",
        "simulation",
        "YT Fig 4: the plain net (left) beside the residual net (right), every layer read off the model objects "
        "by tracing their forward pass: 3×3 convs with their output channels and stride (/2), the ReLUs, the identity "
        "connections (red) from where they leave to the ⊕ where they enter, dashed where the identity is subsampled "
        "and zero-padded on the new channels (option A), the groups G16, G32, G64, average pooling and the classifier.",
        settings="simulations.yt_fig4",
        schema=entry(arch=ARCH, depth=at_least(5)),
        make=f"{SIMULATE}:yt_fig4",
    ),
    Target(
        "yt_fig5",
        "YT Figs 1 and 5",
        "figure",
        "simulation",
        "YT Figs 1 and 5: one block of each net, plain y = relu(conv(x)) beside residual y = relu(x + conv(x)) "
        "(top, the simplified nets), and the fully-fledged BN block of He et al. (bottom), read off the model objects; "
        "each panel's formula is read off the traced graph.",
        settings="simulations.yt_fig5",
        schema=entry(archs={"type": "array", "minItems": 1, "items": ARCH}, depth=at_least(5), block=at_least(0)),
        make=f"{SIMULATE}:yt_fig5",
    ),
    Target(
        "yt_fig6",
        "YT Fig 6",
        "figure",
        "runs",
        "YT Fig 6: the equivalent pair of Table 2 (plain net at p₀ = T(r₀) with decay on T⁻¹(p), "
        "residual net at r₀, float64, the same minibatches). Left: the loss of every SGD step's minibatch, "
        "taken before the step; right: the absolute difference of the two, on a log scale, one colour per seed. "
        "Steps where the two losses are exactly equal cannot be drawn on a log axis; the legend counts them.",
        settings="figures.yt_fig6",
        schema=entry(experiment=STRING, depth=INTEGER),
        make=f"{CURVES}:yt_fig6",
        claims=f"{YT}:claims_fig6",
        weighs=("csv",),
        requires=(lambda cfg: cfg.log_iterations, "log_iterations: true"),
    ),
    Target(
        "yt_fig7",
        "YT Fig 7",
        "figure",
        "nets",
        "YT Fig 7: histograms of all weights of the plain net p (KWI, blue) and of t = T(r), the "
        "residual net (HMWI) seen as a plain net (red), y-axis clipped as in the paper (top), and of t's ID "
        "entries alone (bottom); before training (left) and after the last epoch (right); one seed.",
        settings="figures.yt_fig7",
        schema=entry(experiment=STRING, depth=INTEGER, seed=at_least(0), clip=POSITIVE),
        make=f"{MEASURE}:yt_fig7",
        claims=f"{YT}:claims_fig7",
        weighs=("csv",),
    ),
    Target(
        "yt_fig9",
        "YT Fig 9",
        "figure",
        "runs",
        "YT Fig 9. Left: training loss L of plain nets started at p₀ ~ KWI (blue) and at the "
        "residual-equivalent t₀ = T(r₀), r₀ ~ HMWI, with decay on T⁻¹(p) (red); solid and dotted lines for the "
        "two depths, the final mean at each curve's end. Right: L(p) − L(t) of seed-paired runs against "
        "epoch, mean ± sd, per depth, on a log scale (non-positive means are not drawn).",
        settings="figures.yt_fig9",
        schema=entry(experiment=STRING, left_depths=DEPTHS, widening_steps=at_least(1)),
        make=f"{CURVES}:yt_fig9",
        claims=f"{YT}:claims_fig9",
        published=True,
        summary=f"{SUMMARY}:fig9_summary",
    ),
    Target(
        "yt_fig10",
        "YT Fig 10",
        "figure",
        "nets",
        "YT Fig 10: histogram of ∂L/∂a⁽ᴸ⁾, the gradient of the minibatch loss with respect to the 64 "
        "final activations, of every training sample in the first epochs of a residual net (HMWI), as captured "
        "during training; log-scale counts, mean and sd in the legend.",
        settings="figures.yt_fig10",
        schema=entry(experiment=STRING, depth=INTEGER),
        make=f"{MEASURE}:yt_fig10",
        claims=f"{YT}:claims_fig10",
        weighs=("csv",),
        published=True,
        summary=f"{SUMMARY}:fig10_summary",
        requires=(lambda cfg: cfg.capture_final_grad_epochs >= 1, "capture_final_grad_epochs ≥ 1"),
    ),
    Target(
        "yt_fig11",
        "YT Fig 11",
        "figure",
        "simulation",
        "YT Fig 11: E[σ⁽ˡ⁾], the fraction of dominant gradient flows in the trivial case (1×1 kernels: "
        "Θ = ∏ Kᵀ S · V), by Monte Carlo for plain (K′ = A′, blue) and residual (K = I + εA, red) nets, one panel per "
        "parameter with the others at the defaults of the paper's caption (given in the figure's title); ± 1.96 se; "
        "red dotted: the approximation p^(L−l)/(1+r^−1.2) with r from Eq. 11 (p′); thin grey: "
        "the paper's 'in conclusion' formula (L−l in place of p′). A row whose |Θ_ii| and |Σ_{j≠i} Θ_ij| are both 0 "
        "counts as not dominant.",
        settings="simulations.yt_fig11",
        schema=entry(
            defaults=entry(
                n=at_least(2),
                eps=at_least(0, "number"),
                L=at_least(2),
                l=at_least(1),
                p={"type": "number", "minimum": 0, "maximum": 1},
                sigma_A=POSITIVE,
                sigma_V=POSITIVE,
            ),
            sweeps={
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": ["n", "eps", "L", "l", "p", "sigma_A", "sigma_V"]},
                "additionalProperties": {"type": "array", "minItems": 1, "items": {"type": "number"}},
            },
            trials=at_least(2),
            seed=at_least(0),
            c=POSITIVE,
        ),
        make=f"{SIMULATE}:yt_fig11",
        claims=f"{YT}:claims_fig11",
        weighs=("csv",),
        parallel=True,
    ),
    Target(
        "yt_fig12",
        "YT Fig 12",
        "figure",
        "nets",
        "YT Fig 12: fraction σ⁽ˡ⁾ of dominant gradient flows (Eq. 13) against layer ℓ (each conv "
        "layer's output after its ReLU) of plain (blue) and residual (red) nets, simplified (left) and "
        "fully-fledged with BN (right): after the first iteration (solid: the state after iteration 1, on the "
        "minibatch of iteration 2) and at the first iteration of the last epoch (dotted); each on the minibatch "
        "the run itself drew there, BN normalising with its statistics as in training; mean ± sd over seeds.",
        settings="figures.yt_fig12",
        schema=entry(
            seeds=at_least(1),
            panels={
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {"simplified": FIG12_PANEL, "fully-fledged": FIG12_PANEL},
            },
        ),
        make=f"{MEASURE}:yt_fig12",
        claims=f"{YT}:claims_fig12",
        weighs=("samples",),
        published=True,
        summary=f"{SUMMARY}:fig12_summary",
        measured={"samples": "sigma.csv"},
        data=True,
        parallel=True,
        requires=(
            lambda cfg: 1 in cfg.snapshot_iterations and cfg.epochs - 1 in cfg.snapshot_epochs_resolved(),
            "snapshot_iterations ∋ 1 and snapshot_epochs ∋ −2 (the start of the last epoch)",
        ),
        check=_ratio_layers,
    ),
    Target(
        "yt_fig13",
        "YT Fig 13",
        "figure",
        "simulation",
        "YT Fig 13: φ(r) = P[|X| > |Y|], r = σ_X/σ_Y, by quadrature of Eq. 14 (blue), the closed form "
        "(2/π)·arctan r (dashed), the approximation 1/(1 + r^−1.2) of Eq. 15 (thin magenta) and Monte Carlo checks "
        "(± 1.96 se); red lines: φ(1) = 1/2; below, the approximation's error and its largest |error|.",
        settings="simulations.yt_fig13",
        schema=entry(
            r_min=POSITIVE,
            r_max=POSITIVE,
            points=at_least(2),
            c=POSITIVE,
            error_grid=at_least(2),
            mc_r={"type": "array", "items": POSITIVE},
            mc_trials=at_least(2),
            seed=at_least(0),
        ),
        make=f"{SIMULATE}:yt_fig13",
        claims=f"{YT}:claims_fig13",
        weighs=("csv",),
    ),
    # ---------------------------------------------------------------- Littwin & Wolf
    Target(
        "lw_fig1_abc",
        "LW Fig 1(a–c)",
        "figure",
        "simulation",
        "LW Fig 1(a–c): the weights ε_r ∝ C(p−1, r−1)·βʳ of paths of length r = 1..p in the loss of a "
        "residual net of depth p (Σ ε_r² = 1), computed exactly in log space.",
        settings="simulations.lw_fig1_abc",
        schema=entry(p=at_least(1), betas={"type": "array", "minItems": 1, "items": POSITIVE}),
        make=f"{SIMULATE}:lw_fig1_abc",
        claims=f"{LW}:claims_lw_fig1_abc",
        weighs=("csv",),
    ),
    Target(
        "lw_fig1_d",
        "LW Fig 1(d)",
        "figure",
        "simulation",
        "LW Fig 1(d): the BN scales λ_l (mean of γ over each layer's units) of a residual MLP (layer 1 not "
        "skippable; then N_l = BN(ReLU(W_l N_{l−1})) + N_{l−1}, Eq. 22) trained by SGD on a seeded Gaussian mixture "
        "(App. C: 10 blocks of 20 units, 50-D, 10 classes, 10,000 samples, minibatch 50), at several iterations (later "
        "darker); right: λ_1 and the mean of the other λ_l against iteration, with the training loss.",
        settings="simulations.lw_mlp",
        schema=LW_MLP,
        select=_mlp("bn"),
        make=f"{SIMULATE}:lw_fig1_d",
        claims=f"{LW}:claims_lw_fig1_d",
        weighs=("csv",),
        parallel=True,
    ),
    Target(
        "lw_fig1_e",
        "LW Fig 1(e)",
        "figure",
        "simulation",
        "LW Fig 1(e): the norm ‖w‖ = (Σ_l ‖W_l‖_F²)^½ of the layer weights of the same residual MLP without BN, "
        "against iteration, per seed (thin) and their mean (each seed's data, initial weights and minibatches drawn as "
        "with BN); middle: the train and test loss; right: ‖w‖ for the first seed at every learning rate of the sweep "
        "(log scale; the chosen one thick).",
        settings="simulations.lw_mlp",
        schema=LW_MLP,
        select=_mlp("no_bn"),
        make=f"{SIMULATE}:lw_fig1_e",
        claims=f"{LW}:claims_lw_fig1_e",
        weighs=("csv",),
        parallel=True,
    ),
    Target(
        "lw_fig1_f",
        "LW Fig 1(f), Theorem 5",
        "figure",
        "simulation",
        "LW Fig 1(f): θ_k = ½·log(v″/v′) − (v″−v′)/(v″+v′) (Eq. 33), v′ = Σ ε_r² r, v″ = Σ ε_r² r(r−1), "
        "the asymptotic mean number of critical points of finite index, against β; sums from r = 1 (REPRODUCTION) "
        "and from r = 2 (the spin glass of Eq. 28); dashed: the bound of Theorem 5.",
        settings="simulations.lw_fig1_f",
        schema=entry(
            p=at_least(2), betas=LOG_GRID, r_starts={"type": "array", "minItems": 1, "items": {"enum": [1, 2]}}
        ),
        make=f"{SIMULATE}:lw_fig1_f",
        claims=f"{LW}:claims_lw_fig1_f",
        weighs=("csv",),
    ),
    Target(
        "lw_theorem1",
        "LW Theorem 1",
        "figure",
        "simulation",
        "LW Theorem 1: the effective depth argmax_r ε_r over p against the depth p, per β, and the limit "
        "β/(1+β) (dashed); circled: pβ/(1+β) is an integer, where the mode is two-valued and the smaller r is shown.",
        settings="simulations.lw_theorem1",
        schema=entry(
            betas={"type": "array", "minItems": 1, "items": POSITIVE},
            ps={"type": "array", "minItems": 2, "items": at_least(1)},
        ),
        make=f"{SIMULATE}:lw_theorem1",
        claims=f"{LW}:claims_lw_theorem1",
        weighs=("csv",),
    ),
    Target(
        "lw_appc",
        "LW App. C Figs 2, 3",
        "figure",
        "nets",
        "LW App. C Figs 2, 3: a fully-fledged ResNet with BN (He et al.; fb.resnet.torch's recipe) per "
        "dataset: the Frobenius norm of each conv layer's kernel with its BN scale absorbed (W·γ/√(running var + eps) "
        "per output channel: the conv-BN pair as one convolution in eval mode) at several epochs, later "
        "darker, and its mean over the conv layers against epoch; the same for the L2 norm of the BN scales γ "
        "(LW's λ) when not absorbed; mean ± sd over seeds; dashed: the lr divided by 10. CIFAR-100 appears "
        "where the data source holds it.",
        settings="figures.lw_appc",
        schema=entry(
            experiments={"type": "array", "minItems": 1, "items": STRING},
            depth=INTEGER,
            seeds=at_least(1),
            stages=at_least(2),
        ),
        make=f"{MEASURE}:lw_appc",
        claims=f"{LW}:claims_lw_appc",
        weighs=("samples",),
        measured={"samples": "norms.csv"},
        parallel=True,
        arch="fully-fledged",
        requires=(lambda cfg: cfg.snapshot_every >= 1, "snapshot_every ≥ 1"),
    ),
]
TARGETS: dict[str, Target] = {t.name: t for t in _DECLARED}


def get(name: str) -> Target:
    if name not in TARGETS:
        raise KeyError(f"no target {name!r}; the targets are {', '.join(TARGETS)}")
    return TARGETS[name]


def weighed_files(target: Target) -> list[str]:
    """The files its claims weigh, in order (`weighs`: its own outputs, or another target's)."""
    files = []
    for ref in target.weighs:
        owner, output = ref.split(".") if "." in ref else (target.name, ref)
        files.append(TARGETS[owner].outputs()[output])
    return files


def scored() -> list[Target]:
    """The targets with claims, in order."""
    return [t for t in TARGETS.values() if t.claims]


def runs_files() -> dict[str, str]:
    """The runs file of each scored target whose claims weigh another file: the scorecard names the runs of it
    that diverged (the tables' runs and the figures' curves carry their status themselves)."""
    return {t.name: t.outputs()["runs"] for t in scored() if "runs" in t.outputs() and "runs" not in t.weighs}


def published_tables() -> list[Target]:
    return [t for t in TARGETS.values() if t.published and t.kind == "table"]


def published_figures() -> list[Target]:
    """Figures whose published numbers the scorecard compares, as summaries of their plotted data."""
    return [t for t in TARGETS.values() if t.published and t.kind == "figure"]
