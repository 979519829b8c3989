"""CIFAR sources → one cached tensor file plus a provenance JSON (sealed: files.sealed_json).

Three sources produce the same file: the official python archive (downloaded, MD5-checked),
a local archive or directory (the official python format, or an image folder
train/<class>/*, test/<class>/*), and a seeded synthetic CIFAR-shaped set for tests.
Every failure raises `DataError` naming the file and the problem; nothing is cached then.

Each source has a cache of its own, results/data/<dataset>/<cache_key(spec)>.{pt,json}, named by what makes
the data (the source, the checksum expected, the official archive, the synthetic sizes): a source that fails
leaves every other cache as it was, timestamp included, and going back to a source finds its cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import sys
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from .files import FetchError, Unreadable, atomic_write_bytes, fetch_url, read_sealed_json, sealed_json

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100}
COUNTS = {"cifar10": {"train": 50000, "test": 10000}, "cifar100": {"train": 50000, "test": 10000}}  # images
IMAGE_SHAPE = (3, 32, 32)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp"}
# Official python-format members: (train members, test member, label key, meta member, names key).
OFFICIAL_LAYOUT = {
    "cifar10": ([f"data_batch_{i}" for i in range(1, 6)], "test_batch", b"labels", "batches.meta", b"label_names"),
    "cifar100": (["train"], "test", b"fine_labels", "meta", b"fine_label_names"),
}
OFFLINE_HINT = (
    "Without a network, point the pipeline at a local copy with one config key: "
    "--config data_source=/path/to/cifar-10-python.tar.gz (or an image-folder "
    "archive or directory with train/<class>/ and test/<class>/)."
)


class DataError(RuntimeError):
    """A data source or cached file is missing, corrupt or not what it claims to be."""


DATA_DIR = "results/data"


def cache_key(spec: dict) -> str:
    """The name of a source's cache: its kind (official, synthetic, local) and a digest of what makes the data
    (`spec`: the source, a local path resolved, the checksum expected, the official archive, the synthetic sizes)."""
    kind = spec["source"] if spec["source"] in ("official", "synthetic") else "local"
    blob = json.dumps(spec, sort_keys=True).encode()
    return f"{kind}-{hashlib.sha256(blob).hexdigest()[:12]}"


def cache_path(dataset: str, spec: dict) -> str:
    """The cached tensor file of `dataset` from the source `spec` describes (its provenance: .json beside it)."""
    return f"{DATA_DIR}/{dataset}/{cache_key(spec)}.pt"


@dataclass
class ImageData:
    """uint8 images N×3×32×32 and int64 labels for the two splits, with class names."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]

    def validate(self, where: str) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != torch.uint8 or x.dim() != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
                raise DataError(f"{where}: {split} images must be uint8 N×3×32×32, got {x.dtype} {tuple(x.shape)}")
            if y.dtype != torch.int64 or y.shape != (x.shape[0],):
                raise DataError(
                    f"{where}: {split} labels must be int64 of length {x.shape[0]}, got {y.dtype} {tuple(y.shape)}"
                )
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(self.classes)):
                raise DataError(f"{where}: {split} labels outside 0..{len(self.classes) - 1}")

    def content_sha256(self) -> str:
        """The SHA-256 of the images, labels and class names themselves, whatever file or torch holds them: what a
        results bundle's runs are checked to have trained on (plainres.bundle)."""
        sha = hashlib.sha256()
        for tensor in (self.train_x, self.train_y, self.test_x, self.test_y):
            sha.update(str((tensor.dtype, tuple(tensor.shape))).encode())
            sha.update(tensor.contiguous().numpy().tobytes())
        sha.update(json.dumps(list(self.classes)).encode())
        return sha.hexdigest()

    def per_class(self, split: str) -> list[int]:
        return torch.bincount(getattr(self, f"{split}_y"), minlength=len(self.classes)).tolist()

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images, in pixel units (0–255)."""
        x = self.train_x.to(torch.float64)
        return x.mean(dim=(0, 2, 3)).tolist(), x.std(dim=(0, 2, 3)).tolist()


# ---------------------------------------------------------------- checksums


def file_digests(path: Path) -> dict[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            md5.update(chunk)
            sha.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def sidecar_sha256(path: Path) -> str | None:
    """The checksum a SHA256SUMS file beside `path` lists for it, if any."""
    sums = path.parent / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == path.name:
            return parts[0].lower()
    return None


# ---------------------------------------------------------------- official archive: download


def download(url: str, dest: Path, md5: str, timeout: float = 30.0) -> dict[str, str]:
    """Fetch `url` to `dest` unless a file with the right MD5 is already there; verify the MD5.
    Returns the file's digests."""
    if dest.is_file():
        digests = file_digests(dest)
        if digests["md5"] == md5:
            return digests
    try:
        fetch_url(url, dest, timeout)
    except FetchError as e:
        raise DataError(f"{e}. {OFFLINE_HINT}") from e
    digests = file_digests(dest)
    if digests["md5"] != md5:
        dest.unlink()
        raise DataError(
            f"{url}: MD5 checksum mismatch: expected {md5}, got {digests['md5']} (corrupt or truncated download)"
        )
    return digests


# ---------------------------------------------------------------- readers: archives and trees


class _Tree:
    """Uniform read access to the files of a directory or a tar archive (optionally compressed)."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.files = {
                PurePosixPath(p.relative_to(path).as_posix()): p for p in sorted(path.rglob("*")) if p.is_file()
            }
            self._tar = None
        elif path.is_file():
            try:
                self._tar = tarfile.open(path, "r:*")
                members = self._tar.getmembers()
            except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
                raise DataError(f"{path}: not a readable tar archive, or truncated ({e})") from e
            self.files = {PurePosixPath(m.name): m for m in members if m.isfile()}
        else:
            raise DataError(f"{path}: no such file or directory")

    def read(self, name: PurePosixPath) -> bytes:
        if self._tar is None:
            return self.files[name].read_bytes()
        try:
            return self._tar.extractfile(self.files[name]).read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise DataError(f"{self.path}: cannot read {name}: archive truncated or corrupt ({e})") from e

    def find(self, basename: str) -> PurePosixPath | None:
        hits = [n for n in self.files if n.name == basename]
        return min(hits, key=lambda n: len(n.parts)) if hits else None

    def close(self):
        if self._tar is not None:
            self._tar.close()


def _unpickle(tree: _Tree, name: PurePosixPath) -> dict:
    try:
        return pickle.loads(tree.read(name), encoding="bytes")
    except DataError:
        raise
    except Exception as e:  # a damaged pickle raises many different exceptions
        raise DataError(f"{tree.path}: {name} is not a valid CIFAR batch ({e})") from e


def read_official(tree: _Tree, dataset: str) -> ImageData:
    """The official python format: pickled batches of N×3072 uint8 rows (R, G, B planes)."""
    train_members, test_member, label_key, meta_member, names_key = OFFICIAL_LAYOUT[dataset]

    def batch(member: str):
        name = tree.find(member)
        if name is None:
            raise DataError(f"{tree.path}: member {member!r} missing from the {dataset} archive")
        d = _unpickle(tree, name)
        if b"data" not in d or label_key not in d:
            raise DataError(f"{tree.path}: {name} lacks {b'data'!r} or {label_key!r}")
        x = np.asarray(d[b"data"], dtype=np.uint8)
        if x.ndim != 2 or x.shape[1] != 3072:
            raise DataError(f"{tree.path}: {name} holds images of shape {x.shape[1:]}, not 3072 = 3×32×32")
        y = np.asarray(d[label_key], dtype=np.int64)
        if len(y) != len(x):
            raise DataError(f"{tree.path}: {name} has {len(x)} images but {len(y)} labels")
        return x.reshape(-1, *IMAGE_SHAPE), y

    train = [batch(m) for m in train_members]
    test_x, test_y = batch(test_member)
    meta_name = tree.find(meta_member)
    if meta_name is None:
        raise DataError(f"{tree.path}: member {meta_member!r} missing from the {dataset} archive")
    classes = [c.decode() for c in _unpickle(tree, meta_name)[names_key]]
    return ImageData(
        torch.from_numpy(np.concatenate([x for x, _ in train])),
        torch.from_numpy(np.concatenate([y for _, y in train])),
        torch.from_numpy(test_x),
        torch.from_numpy(test_y),
        classes,
    )


def _expected_classes(dataset: str, found: list[str]) -> list[str]:
    if dataset == "cifar10":
        return list(CIFAR10_CLASSES)
    return sorted(found)  # CIFAR-100's official fine-label order is alphabetical


def read_image_folder(tree: _Tree, dataset: str) -> ImageData:
    """An image-folder layout …/train/<class>/<image> and …/test/<class>/<image>, in class order."""
    from PIL import Image, UnidentifiedImageError

    found: dict[str, dict[str, list[PurePosixPath]]] = {"train": {}, "test": {}}
    for name in tree.files:
        if name.suffix.lower() not in IMAGE_SUFFIXES or len(name.parts) < 3:
            continue
        split, cls = name.parts[-3], name.parts[-2]
        if split in found:
            found[split].setdefault(cls, []).append(name)
    if not found["train"] or not found["test"]:
        raise DataError(
            f"{tree.path}: no train/<class>/ and test/<class>/ image folders found (nor the official python batches)"
        )
    classes = _expected_classes(dataset, list(found["train"]))
    if len(classes) != NUM_CLASSES[dataset]:
        raise DataError(
            f"{tree.path}: {dataset} has {NUM_CLASSES[dataset]} classes, "
            f"found {len(classes)} class folders under train/"
        )
    out = {}
    for split, by_class in found.items():
        missing = [c for c in classes if c not in by_class]
        if missing:
            raise DataError(
                f"{tree.path}: class folder {split}/{missing[0]}/ is missing"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        extra = sorted(set(by_class) - set(classes))
        if extra:
            raise DataError(f"{tree.path}: unexpected class folder {split}/{extra[0]}/ for {dataset}")
        names = [(label, n) for label, c in enumerate(classes) for n in sorted(by_class[c])]
        x = np.empty((len(names), *IMAGE_SHAPE), dtype=np.uint8)
        for i, (_, name) in enumerate(names):
            try:
                with Image.open(io.BytesIO(tree.read(name))) as img:
                    if img.size != (32, 32):
                        raise DataError(f"{tree.path}: {name} is {img.size[0]}×{img.size[1]}, not 32×32")
                    x[i] = np.asarray(img.convert("RGB")).transpose(2, 0, 1)
            except (UnidentifiedImageError, OSError, SyntaxError) as e:
                raise DataError(f"{tree.path}: {name} is not a readable image ({e})") from e
        out[split] = (torch.from_numpy(x), torch.tensor([label for label, _ in names], dtype=torch.int64))
    return ImageData(*out["train"], *out["test"], classes)


def read_local(path: Path, dataset: str) -> tuple[ImageData, str]:
    """A local directory or archive, in the official python format or as an image folder."""
    tree = _Tree(path)
    try:
        if tree.find(OFFICIAL_LAYOUT[dataset][1]) is not None:
            return read_official(tree, dataset), "official"
        return read_image_folder(tree, dataset), "image-folder"
    finally:
        tree.close()


def expected_checksum(path: Path, sha256: str | None, official_name: str, official_md5: str):
    """(algorithm, digest) to verify a local file against: the configured SHA-256, else a
    SHA256SUMS file beside it, else the official MD5 when it bears the official name."""
    if sha256:
        return "sha256", sha256.lower()
    listed = sidecar_sha256(path)
    if listed:
        return "sha256", listed
    if path.name == official_name:
        return "md5", official_md5
    return None


# ---------------------------------------------------------------- synthetic


def synthetic(n_train: int, n_test: int, num_classes: int = 10, seed: int = 0) -> ImageData:
    """A learnable CIFAR-shaped set: each class a smooth random template plus pixel noise."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(num_classes, 3, 4, 4, generator=g) * 160 + 48
    templates = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False)

    def split(n):
        y = torch.randint(num_classes, (n,), generator=g)
        x = templates[y] + 40 * torch.randn(n, *IMAGE_SHAPE, generator=g)
        return x.round().clamp(0, 255).to(torch.uint8), y

    return ImageData(*split(n_train), *split(n_test), [f"class{i}" for i in range(num_classes)])


# ---------------------------------------------------------------- the stage


def acquire(
    dataset: str,
    source: str,
    official: dict,
    download_dir: Path,
    synthetic_cfg: dict | None = None,
    sha256: str | None = None,
    timeout: float = 30.0,
) -> tuple[ImageData, dict]:
    """Read `dataset` from `source` ('official', 'synthetic' or a local path); return data + provenance."""
    if dataset not in NUM_CLASSES:
        raise DataError(f"unknown dataset {dataset!r}; choose one of {sorted(NUM_CLASSES)}")
    if source == "synthetic":
        cfg = dict(synthetic_cfg or {})
        data = synthetic(cfg["train"], cfg["test"], NUM_CLASSES[dataset], cfg.get("seed", 0))
        return data, {"kind": "synthetic", "location": None, **cfg}
    if source == "official":
        path = download_dir / official["url"].rsplit("/", 1)[-1]
        digests = download(official["url"], path, official["md5"], timeout)
        info = {"kind": "official", "location": official["url"], **digests, "verified": "md5"}
        tree = _Tree(path)
        try:
            return read_official(tree, dataset), info
        finally:
            tree.close()
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(
            f"data_source {source!r}: no such file or directory (use 'official', 'synthetic' or a path to a local copy)"
        )
    info = {"kind": "local", "location": str(path.resolve()), "verified": False}
    if path.is_file():
        digests = file_digests(path)
        info.update(digests)
        expected = expected_checksum(path, sha256, official["url"].rsplit("/", 1)[-1], official["md5"])
        if expected:
            algo, want = expected
            if digests[algo] != want:
                raise DataError(
                    f"{path}: {algo.upper()} checksum mismatch: expected {want}, "
                    f"got {digests[algo]} (corrupt, truncated or a different file)"
                )
            info["verified"] = algo
        else:
            print(
                f"warning: {path}: no checksum to verify against (set data.sha256 or put a "
                "SHA256SUMS file beside it); recording its SHA-256 only",
                file=sys.stderr,
            )
    data, info["layout"] = read_local(path, dataset)
    return data, info


def save_cached(data: ImageData, source_info: dict, dataset: str, pt_path: Path, json_path: Path) -> dict:
    """Write the cached tensor file and its provenance JSON atomically; return the provenance."""
    data.validate(str(pt_path))
    buffer = io.BytesIO()
    torch.save(
        {
            "train_x": data.train_x,
            "train_y": data.train_y,
            "test_x": data.test_x,
            "test_y": data.test_y,
            "classes": list(data.classes),
        },
        buffer,
    )
    blob = buffer.getvalue()
    mean, std = data.channel_stats()
    from . import provenance

    meta = {
        "dataset": dataset,
        "source": source_info,
        "classes": list(data.classes),
        "counts": {"train": len(data.train_y), "test": len(data.test_y)},
        "per_class": {"train": data.per_class("train"), "test": data.per_class("test")},
        "channel_mean": mean,
        "channel_std": std,
        "file_sha256": hashlib.sha256(blob).hexdigest(),
        **provenance.environment(),
    }
    json_path.unlink(missing_ok=True)  # a JSON is only ever beside the file it describes
    atomic_write_bytes(pt_path, blob)
    atomic_write_bytes(json_path, sealed_json(meta))
    return meta


def load_cached(pt_path: Path, json_path: Path | None = None) -> tuple[ImageData, dict]:
    """Read a cached file, checking it against the SHA-256 its provenance JSON records."""
    pt_path = Path(pt_path)
    json_path = Path(json_path) if json_path else pt_path.with_suffix(".json")
    try:
        meta = read_sealed_json(json_path)
    except Unreadable as e:
        raise DataError(f"{e}: the dataset's provenance; rebuild the data stage") from e
    try:
        blob = pt_path.read_bytes()
    except OSError as e:
        raise DataError(f"{pt_path}: cannot read ({e}); rebuild the data stage") from e
    got = hashlib.sha256(blob).hexdigest()
    if got != meta.get("file_sha256"):
        raise DataError(
            f"{pt_path}: SHA-256 {got} does not match {meta.get('file_sha256')} "
            f"recorded in {json_path}; the file is corrupt or stale, rebuild it"
        )
    d = torch.load(io.BytesIO(blob), weights_only=True)
    data = ImageData(d["train_x"], d["train_y"], d["test_x"], d["test_y"], list(d["classes"]))
    data.validate(str(pt_path))
    return data, meta
