# Results that need no training: the diagrams drawn from the model objects (YT Figs 4, 5), the trivial-case
# Monte Carlo and φ(r) (YT Figs 11, 13), the ensemble of path lengths (LW Fig 1(a–c, f), Theorem 1) and the
# residual MLP on a Gaussian mixture (LW Fig 1(d, e)). Each reads only its own entry of `simulations:` (Fig 1(d)
# and 1(e): the shared `lw_mlp` settings and their net's own).

SIMULATION_CAPTIONS = {
    "yt_fig4": "YT Fig 4: the plain net (left) beside the residual net (right), every layer read off the model objects "
    "by tracing their forward pass: 3×3 convs with their output channels and stride (/2), the ReLUs, the identity "
    "connections (red) from where they leave to the ⊕ where they enter, dashed where the identity is subsampled "
    "and zero-padded on the new channels (option A), the groups G16, G32, G64, average pooling and the classifier.",
    "yt_fig5": "YT Figs 1 and 5: one block of each net, plain y = relu(conv(x)) beside residual y = relu(x + conv(x)) "
    "(top, the simplified nets), and the fully-fledged BN block of He et al. (bottom), read off the model objects; "
    "each panel's formula is read off the traced graph.",
    "yt_fig11": "YT Fig 11: E[σ⁽ˡ⁾], the fraction of dominant gradient flows in the trivial case (1×1 kernels: "
    "Θ = ∏ Kᵀ S · V), by Monte Carlo for plain (K′ = A′, blue) and residual (K = I + εA, red) nets, one panel per "
    "parameter with the others at the defaults of the paper's caption (given in the figure's title); ± 1.96 se; red dotted: the approximation p^(L−l)/(1+r^−1.2) with r from Eq. 11 (p′); thin grey: "
    "the paper's 'in conclusion' formula (L−l in place of p′). A row whose |Θ_ii| and |Σ_{j≠i} Θ_ij| are both 0 "
    "counts as not dominant.",
    "yt_fig13": "YT Fig 13: φ(r) = P[|X| > |Y|], r = σ_X/σ_Y, by quadrature of Eq. 14 (blue), the closed form "
    "(2/π)·arctan r (dashed), the approximation 1/(1 + r^−1.2) of Eq. 15 (thin magenta) and Monte Carlo checks "
    "(± 1.96 se); red lines: φ(1) = 1/2; below, the approximation's error and its largest |error|.",
    "lw_fig1_d": "LW Fig 1(d): the BN scales λ_l (mean of γ over each layer's units) of a residual MLP (layer 1 not "
    "skippable; then N_l = BN(ReLU(W_l N_{l−1})) + N_{l−1}, Eq. 22) trained by SGD on a seeded Gaussian mixture "
    "(App. C: 10 blocks of 20 units, 50-D, 10 classes, 10,000 samples, minibatch 50), at several iterations (later "
    "darker); right: λ_1 and the mean of the other λ_l against iteration, with the training loss.",
    "lw_fig1_e": "LW Fig 1(e): the norm ‖w‖ = (Σ_l ‖W_l‖_F²)^½ of the layer weights of the same residual MLP without BN, "
    "against iteration (same data, initial weights drawn alike, same minibatch sequence); right: its train and "
    "test loss.",
    "lw_fig1_abc": "LW Fig 1(a–c): the weights ε_r ∝ C(p−1, r−1)·βʳ of paths of length r = 1..p in the loss of a "
    "residual net of depth p (Σ ε_r² = 1), computed exactly in log space.",
    "lw_theorem1": "LW Theorem 1: the effective depth argmax_r ε_r over p against the depth p, per β, and the limit "
    "β/(1+β) (dashed); circled: pβ/(1+β) is an integer, where the mode is two-valued and the smaller r is shown.",
    "lw_fig1_f": "LW Fig 1(f): θ_k = ½·log(v″/v′) − (v″−v′)/(v″+v′) (Eq. 33), v′ = Σ ε_r² r, v″ = Σ ε_r² r(r−1), "
    "the asymptotic mean number of critical points of finite index, against β; sums from r = 1 (REPRODUCTION) "
    "and from r = 2 (the spin glass of Eq. 28); dashed: the bound of Theorem 5.",
}
SIMULATIONS = list(SIMULATION_CAPTIONS)


def simulation_spec(target):
    """A simulation's own settings; Fig 1(d) and 1(e) each read the shared MLP settings and their net's own."""
    if target in ("lw_fig1_d", "lw_fig1_e"):
        mlp = C["simulations"]["lw_mlp"]
        net = "bn" if target == "lw_fig1_d" else "no_bn"
        return {"common": mlp["common"], net: mlp[net], "stages": mlp["stages"]}
    return C["simulations"][target]


for _target in SIMULATIONS:

    rule:
        name:
            _target
        output:
            png=report(f"results/figures/{_target}.png", caption="../report/caption.rst", category="Simulations"),
            pdf=f"results/figures/{_target}.pdf",
            csv=f"results/figures/{_target}.csv",
        log:
            f"results/logs/{_target}.log",
        benchmark:
            f"results/benchmarks/{_target}.tsv"
        localrule: True
        threads: ALL_CORES if _target == "yt_fig11" else 1  # the MLPs: one core each, so (d) and (e) run side by side
        params:
            target=_target,
            spec=simulation_spec(_target),
            caption=SIMULATION_CAPTIONS[_target],
            config={"scale": C["scale"], "spec": simulation_spec(_target)},
        script:
            "../scripts/simulate.py"


# The diagrams state no claim; the other simulations are scored.
SCORED_SIMULATIONS = [t for t in SIMULATIONS if t not in ("yt_fig4", "yt_fig5")]
