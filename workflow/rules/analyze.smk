# Measurements of trained networks: weight statistics (YT Table 3, Fig 7), layer cushion (Fig 3),
# final-activation gradients (Fig 10).


rule yt_table3:
    input:
        done=target_input("yt_table3"),
    output:
        csv="results/tables/yt_table3.csv",
        md=report("results/tables/yt_table3.md", caption="../report/caption.rst", category="Tables"),
        tex="results/tables/yt_table3.tex",
        runs="results/measures/yt_table3/weights.csv",
    params:
        spec=target_spec("yt_table3"),
        caption="YT Table 3: mean, sd and L1 mass (all weights, |w| ≥ threshold, ID entries) of the plain "
        "nets' weights p and of the residual nets' weights seen as a plain net, t = T(r), at initialisation (_0) "
        "and after the last epoch (_end; the paper's p_200, t_200); mean ± sd over seeds (n).",
        config=target_config("yt_table3"),
    localrule: True
    script:
        "../scripts/table3.py"


rule yt_fig7:
    input:
        done=target_input("yt_fig7"),
    output:
        png=report("results/figures/yt_fig7.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig7.pdf",
        csv="results/figures/yt_fig7.csv",
    params:
        spec=target_spec("yt_fig7"),
        caption="YT Fig 7: histograms of all weights of the plain net p (KWI, blue) and of t = T(r), the "
        "residual net (HMWI) seen as a plain net (red), y-axis clipped as in the paper (top), and of t's ID "
        "entries alone (bottom); before training (left) and after the last epoch (right); one seed.",
        config=target_config("yt_fig7"),
    localrule: True
    script:
        "../scripts/fig7.py"


rule yt_fig3:
    input:
        done=target_input("yt_fig3"),
        data=rules.data.output.pt,
    output:
        png=report("results/figures/yt_fig3.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig3.pdf",
        csv="results/figures/yt_fig3.csv",
        samples="results/measures/yt_fig3/cushion.csv",
    params:
        spec=target_spec("yt_fig3"),
        caption="YT Fig 3: histograms of the per-sample layer cushion μ(x) = ‖Ax‖ / ‖A‖_F / ‖x‖ over the "
        "training images, at one layer of trained plain (KWI, blue) and residual (HMWI, red) nets, one panel per "
        "depth. A is the layer's convolution as a linear operator (every output position counted); for residual "
        "nets Ax is the whole layer, x + conv_r(x), and ‖A‖_F that of r alone. Legends: mean ± sd of μ and the "
        "net's test error E.",
        config=target_config("yt_fig3"),
    localrule: True
    script:
        "../scripts/fig3.py"


rule yt_fig10:
    input:
        done=target_input("yt_fig10"),
    output:
        png=report("results/figures/yt_fig10.png", caption="../report/caption.rst", category="Figures"),
        pdf="results/figures/yt_fig10.pdf",
        csv="results/figures/yt_fig10.csv",
    params:
        spec=target_spec("yt_fig10"),
        caption="YT Fig 10: histogram of ∂L/∂a⁽ᴸ⁾, the gradient of the minibatch loss with respect to the 64 "
        "final activations, of every training sample in the first epochs of a residual net (HMWI), as captured "
        "during training; log-scale counts, mean and sd in the legend.",
        config=target_config("yt_fig10"),
    localrule: True
    script:
        "../scripts/fig10.py"
