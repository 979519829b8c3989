"""Measurements of trained networks (YT Table 3, Figs 3, 7, 10, 12; the interlayer cushion)."""
