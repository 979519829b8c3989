"""Weight statistics of p (plain, KWI) and t = T(r) (the residual run's weights seen as a plain net):
mean, sd and L1 mass of all weights, of those with |w| ≥ 0.25 and of the ID entries (YT Table 3, Fig 7).
"""

from __future__ import annotations

import pandas as pd
import torch

from ..runfolder import RunFolder, net_of
from ..transfer import rho, transfer_to_plain, weights


def parameter_vector(net: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """All weights (conv kernels and the FC matrix) as one float64 vector, and the mask of its ID entries."""
    ids = rho(net)
    values, is_id = [], []
    for name, w in weights(net):
        values.append(w.detach().double().flatten())
        is_id.append(ids[name].bool().flatten() if name in ids else torch.zeros(w.numel(), dtype=torch.bool))
    return torch.cat(values), torch.cat(is_id)


def plain_view(run: dict, state_dict: dict) -> torch.nn.Module:
    """A simplified run's weights as a plain net: p itself, or t = T(r) for a residual run (YT Eq. 1)."""
    net = net_of(run, state_dict)
    return transfer_to_plain(net) if run["net"] == "residual" else net


def weight_statistics(w: torch.Tensor, is_id: torch.Tensor, threshold: float = 0.25) -> dict[str, float]:
    """YT Table 3 for one parameter vector: mean, sd (ddof 1), and the L1 mass of all weights, of
    |w| ≥ threshold and of the ID entries, with the counts behind the last two."""
    large = w.abs() >= threshold
    return {
        "mean": w.mean().item(),
        "sd": w.std().item(),
        "mass_all": w.abs().sum().item(),
        "mass_large": w[large].abs().sum().item(),
        "mass_id": w[is_id].abs().sum().item(),
        "count_large": int(large.sum()),
        "count_id": int(is_id.sum()),
    }


# The four parameter vectors of YT Table 3: (name, net whose runs give it, snapshot).
VECTORS = (
    ("p_0", "plain", "epoch_0"),
    ("p_end", "plain", "final"),
    ("t_0", "residual", "epoch_0"),
    ("t_end", "residual", "final"),
)
STATISTICS = ("mean", "sd", "mass_all", "mass_large", "mass_id")


def load_plain_view(run_dir: str, snapshot: str) -> dict:
    """A run's weights at `snapshot` as a plain net's: p itself, or t = T(r) for a residual run."""
    folder = RunFolder(run_dir)
    return plain_view(folder.config()["run"], folder.state(snapshot))


def table3_runs(runs: pd.DataFrame, threshold: float = 0.25) -> pd.DataFrame:
    """Per run of `runs` (rows with net, seed, dir) and per vector: the statistics, one row each."""
    rows = []
    for run in runs.itertuples():
        for vector, net, snapshot in VECTORS:
            if run.net == net:
                stats = weight_statistics(*parameter_vector(load_plain_view(run.dir, snapshot)), threshold)
                rows.append({"vector": vector, "seed": run.seed, "depth": run.depth, "run_id": run.run_id, **stats})
    return pd.DataFrame(rows)
