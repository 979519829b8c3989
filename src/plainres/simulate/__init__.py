"""Monte Carlo and analytic results: YT Figs 11 and 13 (trivial case, Gaussian inequality), LW Fig 1,
Theorem 1 (the ensemble of path lengths) and the residual MLP of LW App. C."""
