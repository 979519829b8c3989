# Measurements of trained networks: weight statistics (YT Table 3, Fig 7), layer cushion (Fig 3),
# final-activation gradients (Fig 10), dominant gradient flow (Fig 12), interlayer cushion (§4), and the
# BN-absorbed conv norms of LW App. C.


rule yt_table3:
    input:
        done=target_input("yt_table3"),
    output:
        csv="results/tables/yt_table3.csv",
        md=report("results/tables/yt_table3.md", caption="../report/caption.rst", category="Tables"),
        tex="results/tables/yt_table3.tex",
        weights="results/measures/yt_table3/weights.csv",
        runs="results/measures/yt_table3/runs.csv",
    log:
        "results/logs/yt_table3.log",
    benchmark:
        "results/benchmarks/yt_table3.tsv"
    localrule: True
    params:
        spec=target_spec("yt_table3"),
        caption="YT Table 3: mean, sd and L1 mass (all weights, |w| ≥ threshold, ID entries) of the plain "
        "nets' weights p and of the residual nets' weights seen as a plain net, t = T(r), at initialisation (_0) "
        "and after the last epoch (_end; the paper's p_200, t_200); mean ± sd over seeds (n).",
        config=target_config("yt_table3"),
    script:
        "../scripts/table3.py"


rule yt_fig7:
    input:
        done=target_input("yt_fig7"),
    output:
        png=report("results/figures/yt_fig7.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig7.pdf",
        csv="results/figures/yt_fig7.csv",
        runs="results/measures/yt_fig7/runs.csv",
    log:
        "results/logs/yt_fig7.log",
    benchmark:
        "results/benchmarks/yt_fig7.tsv"
    localrule: True
    params:
        spec=target_spec("yt_fig7"),
        caption="YT Fig 7: histograms of all weights of the plain net p (KWI, blue) and of t = T(r), the "
        "residual net (HMWI) seen as a plain net (red), y-axis clipped as in the paper (top), and of t's ID "
        "entries alone (bottom); before training (left) and after the last epoch (right); one seed.",
        config=target_config("yt_fig7"),
    script:
        "../scripts/fig7.py"


rule yt_fig3:
    input:
        done=target_input("yt_fig3"),
        data=DATA,
    output:
        png=report("results/figures/yt_fig3.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig3.pdf",
        csv="results/figures/yt_fig3.csv",
        samples="results/measures/yt_fig3/cushion.csv",
        runs="results/measures/yt_fig3/runs.csv",
    log:
        "results/logs/yt_fig3.log",
    benchmark:
        "results/benchmarks/yt_fig3.tsv"
    localrule: True
    threads: ALL_CORES
    params:
        spec=target_spec("yt_fig3"),
        caption="YT Fig 3: histograms of the per-sample layer cushion μ(x) = ‖Ax‖ / ‖A‖_F / ‖x‖ over the "
        "training images, at one layer of trained plain (KWI, blue) and residual (HMWI, red) nets, one panel per "
        "depth. A is the layer's convolution as a linear operator (every output position counted); for residual "
        "nets Ax is the whole layer, x + conv_r(x), and ‖A‖_F that of r alone. Legends: mean ± sd of μ and the "
        "net's test error E.",
        config=target_config("yt_fig3"),
    script:
        "../scripts/fig3.py"


rule yt_fig10:
    input:
        done=target_input("yt_fig10"),
    output:
        png=report("results/figures/yt_fig10.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig10.pdf",
        csv="results/figures/yt_fig10.csv",
        runs="results/measures/yt_fig10/runs.csv",
    log:
        "results/logs/yt_fig10.log",
    benchmark:
        "results/benchmarks/yt_fig10.tsv"
    localrule: True
    params:
        spec=target_spec("yt_fig10"),
        caption="YT Fig 10: histogram of ∂L/∂a⁽ᴸ⁾, the gradient of the minibatch loss with respect to the 64 "
        "final activations, of every training sample in the first epochs of a residual net (HMWI), as captured "
        "during training; log-scale counts, mean and sd in the legend.",
        config=target_config("yt_fig10"),
    script:
        "../scripts/fig10.py"


rule yt_fig12:
    input:
        done=target_input("yt_fig12"),
        data=DATA,
    output:
        png=report("results/figures/yt_fig12.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig12.pdf",
        csv="results/figures/yt_fig12.csv",
        samples="results/measures/yt_fig12/sigma.csv",
        runs="results/measures/yt_fig12/runs.csv",
    log:
        "results/logs/yt_fig12.log",
    benchmark:
        "results/benchmarks/yt_fig12.tsv"
    localrule: True
    threads: ALL_CORES
    params:
        spec=target_spec("yt_fig12"),
        caption="YT Fig 12: fraction σ⁽ˡ⁾ of dominant gradient flows (Eq. 13) against layer ℓ (each conv "
        "layer's output after its ReLU) of plain (blue) and residual (red) nets, simplified (left) and "
        "fully-fledged with BN (right): after the first iteration (solid: the state after iteration 1, on the "
        "minibatch of iteration 2) and at the first iteration of the last epoch (dotted); each on the minibatch "
        "the run itself drew there, BN normalising with its statistics as in training; mean ± sd over seeds.",
        config=target_config("yt_fig12"),
    script:
        "../scripts/fig12.py"


rule yt_cushion_full:
    input:
        done=target_input("yt_cushion_full"),
        data=DATA,
    output:
        csv="results/tables/yt_cushion_full.csv",
        md=report("results/tables/yt_cushion_full.md", caption="../report/caption.rst", category="Tables"),
        tex="results/tables/yt_cushion_full.tex",
        samples="results/measures/yt_cushion_full/cushion.csv",
        runs="results/measures/yt_cushion_full/runs.csv",
    log:
        "results/logs/yt_cushion_full.log",
    benchmark:
        "results/benchmarks/yt_cushion_full.tsv"
    localrule: True
    threads: ALL_CORES
    params:
        spec=target_spec("yt_cushion_full"),
        caption="YT §4: per-sample interlayer cushion μ(x) = √n ‖J x‖ / ‖J‖_F / ‖x‖ of one block (J its "
        "Jacobian at its input x, n = the size of x) of trained fully-fledged plain and residual nets (BN in "
        "eval mode), over their training images: mean and sd over images, and the standard errors (_se, "
        "jackknife) that estimating ‖J‖_F from random projections leaves in them; then mean ± sd over seeds (n).",
        config=target_config("yt_cushion_full"),
    script:
        "../scripts/cushion_full.py"


rule lw_appc:
    input:
        done=target_input("lw_appc"),
    output:
        png=report("results/figures/lw_appc.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/lw_appc.pdf",
        csv="results/figures/lw_appc.csv",
        samples="results/measures/lw_appc/norms.csv",
        runs="results/measures/lw_appc/runs.csv",
    log:
        "results/logs/lw_appc.log",
    benchmark:
        "results/benchmarks/lw_appc.tsv"
    localrule: True
    threads: ALL_CORES
    params:
        spec=target_spec("lw_appc"),
        caption="LW App. C Figs 2, 3: a fully-fledged ResNet with BN (He et al.; fb.resnet.torch's recipe) per "
        "dataset: the Frobenius norm of each conv layer's kernel with its BN scale absorbed (W·γ/√(running var + eps) "
        "per output channel: the conv-BN pair as one convolution in eval mode) at several epochs, later "
        "darker, and its mean over the conv layers against epoch; the same for the L2 norm of the BN scales γ "
        "(LW's λ) when not absorbed; mean ± sd over seeds; dashed: the lr divided by 10. CIFAR-100 appears "
        "where the data source holds it.",
        config=target_config("lw_appc"),
    script:
        "../scripts/lw_appc.py"
