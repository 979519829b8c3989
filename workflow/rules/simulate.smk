# Results that need no training: the diagrams drawn from the model objects (YT Figs 4, 5), the trivial-case
# Monte Carlo and φ(r) (YT Figs 11, 13), the ensemble of path lengths (LW Fig 1(a–c, f), Theorem 1) and the
# residual MLP on a Gaussian mixture (LW Fig 1(d, e)). Each reads only its own entry of `simulations:`.

SIMULATION_CAPTIONS = {
    "yt_fig4": "YT Fig 4: the plain net (left) beside the residual net (right), every layer read off the model objects "
    "by tracing their forward pass: 3×3 convs with their output channels and stride (/2), the ReLUs, the identity "
    "connections (red) from where they leave to the ⊕ where they enter, dashed where the identity is subsampled "
    "and zero-padded on the new channels (option A), the groups G16, G32, G64, average pooling and the classifier.",
    "yt_fig5": "YT Figs 1 and 5: one block of each net, plain y = relu(conv(x)) beside residual y = relu(x + conv(x)) "
    "(top, the simplified nets), and the fully-fledged BN block of He et al. (bottom), read off the model objects; "
    "each panel's formula is read off the traced graph.",
    "lw_fig1_abc": "LW Fig 1(a–c): the weights ε_r ∝ C(p−1, r−1)·βʳ of paths of length r = 1..p in the loss of a "
    "residual net of depth p (Σ ε_r² = 1), computed exactly in log space.",
    "lw_theorem1": "LW Theorem 1: the effective depth argmax_r ε_r over p against the depth p, per β, and the limit "
    "β/(1+β) (dashed); circled: pβ/(1+β) is an integer, where the mode is two-valued and the smaller r is shown.",
    "lw_fig1_f": "LW Fig 1(f): θ_k = ½·log(v″/v′) − (v″−v′)/(v″+v′) (Eq. 33), v′ = Σ ε_r² r, v″ = Σ ε_r² r(r−1), "
    "the asymptotic mean number of critical points of finite index, against β; sums from r = 1 (REPRODUCTION) "
    "and from r = 2 (the spin glass of Eq. 28); dashed: the bound of Theorem 5.",
}
SIMULATIONS = [t for t in C["simulations"] if t in SIMULATION_CAPTIONS]


for _target in SIMULATIONS:

    rule:
        name:
            _target
        output:
            png=report(f"results/figures/{_target}.png", caption="../report/caption.rst", category="Simulations"),
            pdf=f"results/figures/{_target}.pdf",
            csv=f"results/figures/{_target}.csv",
        benchmark:
            f"results/benchmarks/{_target}.tsv"
        params:
            target=_target,
            spec=C["simulations"][_target],
            caption=SIMULATION_CAPTIONS[_target],
            config={"scale": C["scale"], "spec": C["simulations"][_target]},
        threads: workflow.cores
        localrule: True
        script:
            "../scripts/simulate.py"

# The diagrams state no claim; the other simulations are scored.
SCORED_SIMULATIONS = [t for t in SIMULATIONS if t not in ("yt_fig4", "yt_fig5")]
