import itertools
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from plainres.data import CIFAR10_CLASSES
from plainres.files import digest
from plainres.runfolder import RunFolder

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]


def run(workdir: Path, *args, **kwargs):
    """Snakemake on this repository's workflow in `workdir`."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *args], capture_output=True, text=True, timeout=1800, **kwargs
    )


def run_controller(action: str, workdir: Path, *config: str, target: str = "yt_fig4") -> subprocess.CompletedProcess:
    """`make run` or `make report` of `target` (plainres.controller), with this repository's Snakefile, in `workdir`."""
    return subprocess.run(
        [sys.executable, "-m", "plainres.controller", action, "--target", target, "--cores", "2"]
        + ["--directory", str(workdir), "--config", *config],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The smoke scale built end to end once, locally, for the slow tests that read it."""
    workdir = tmp_path_factory.mktemp("smoke")
    done = run(workdir, "--config", "scale=smoke")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


def image_folder(root: Path, classes=CIFAR10_CLASSES, train=2, test=1, size=(32, 32), fmt="PNG"):
    """A local image-folder copy of CIFAR-shaped data: train/<class>/*, test/<class>/*, random pixels."""
    rng = np.random.default_rng(1)
    for split, n in (("train", train), ("test", test)):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / c / f"{i:04d}.{fmt.lower()}", fmt)
    return root


def tar_of(folder: Path, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return path


def copy_of_the_repository(root: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, root / name)
    return root


def make(root: Path, *args) -> subprocess.CompletedProcess:
    """`make …` in a copy of the repository with this session's .venv (-o: never reinstall it), as a user runs it
    from a shell: outside the `make test` that runs the tests (no MAKELEVEL, so make's own lines read `make: ***`)."""
    venv = REPO / ".venv"
    outside = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    return subprocess.run(
        ["make", f"VENV={venv}", "-o", str(venv / ".installed"), *args],
        cwd=root,
        env=outside,
        capture_output=True,
        text=True,
        timeout=1800,
    )


needs_make = pytest.mark.skipif(
    shutil.which("make") is None or not (REPO / ".venv" / "bin" / "snakemake").exists(),
    reason="needs make and the .venv that `make test` creates",
)


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


def sealed(folder: Path, status: str = "finished", epochs: int = 1) -> Path:
    """A run folder made by hand, as the engine leaves one: every file in it listed in a sealed manifest.json."""
    run = RunFolder(folder)
    run.written = {
        f.relative_to(folder).as_posix(): digest(f.read_bytes())
        for f in sorted(folder.rglob("*"))
        if f.is_file() and f != run.manifest_path
    }
    run.seal(folder.name, status, epochs)
    return folder
