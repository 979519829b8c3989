import itertools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]


def run(workdir: Path, *args, **kwargs):
    """Snakemake on this repository's workflow in `workdir`."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *args], capture_output=True, text=True, timeout=1800, **kwargs
    )


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The smoke scale built end to end once, locally, for the slow tests that read it."""
    workdir = tmp_path_factory.mktemp("smoke")
    done = run(workdir, "--config", "scale=smoke")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def sigma_frame(curve, archs=("simplified", "fully-fledged"), depth=20, seeds=3):
    """Synthetic Fig 12 measurements: σ = curve(arch, net, stage, layer, seed) for layers 1 … L−1."""
    rows = [
        {
            "arch": arch,
            "net": net,
            "depth": depth,
            "seed": seed,
            "stage": stage,
            "layer": layer,
            "sigma": 1.0 if layer == depth - 1 else curve(arch, net, stage, layer, seed),
        }
        for arch, net, stage, seed, layer in itertools.product(
            archs, ("plain", "residual"), ("first", "last"), range(seeds), range(1, depth)
        )
    ]
    return pd.DataFrame(rows)


def residual_first(net, init, depth, seed, epoch):
    """A loss curve where residual nets fall faster than plain ones (0.3 vs 0.5 per epoch), seeds 1 % apart."""
    base = 2.3 * 0.3**epoch if net == "residual" else 2.3 * 0.5**epoch
    return base * (1 + 0.01 * seed)


def legend_texts(fig) -> str:
    return " | ".join(t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts())


def panel_texts(fig) -> str:
    return " | ".join(t.get_text() for ax in fig.axes for t in ax.texts)
