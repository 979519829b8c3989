import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, image_folder, tar_of
from PIL import Image

from plainres.data import CIFAR10_CLASSES, OFFICIAL_LAYOUT, DataError, acquire, load_cached, save_cached, synthetic
from plainres.files import read_sealed_json

PER_BATCH = 3  # images per official batch in the small archives built here


def official_archive(path: Path, dataset="cifar10", seed=0) -> tuple[Path, dict]:
    """A small archive in the official python format; returns it and the images it holds."""
    train_members, test_member, label_key, meta_member, names_key = OFFICIAL_LAYOUT[dataset]
    n_classes = 10 if dataset == "cifar10" else 100
    names = list(CIFAR10_CLASSES) if dataset == "cifar10" else [f"c{i:03d}" for i in range(n_classes)]
    rng = np.random.default_rng(seed)
    folder = "cifar-10-batches-py" if dataset == "cifar10" else "cifar-100-python"
    content = {}
    with tarfile.open(path, "w:gz") as tar:

        def add(member, obj):
            blob = pickle.dumps(obj)
            info = tarfile.TarInfo(f"{folder}/{member}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))

        for member in train_members + [test_member]:
            x = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
            y = rng.integers(0, n_classes, PER_BATCH).tolist()
            add(member, {b"data": x, label_key: y, b"batch_label": member.encode()})
            content[member] = (x, y)
        add(meta_member, {names_key: [n.encode() for n in names]})
    return path, {"content": content, "classes": names, "md5": hashlib.md5(path.read_bytes()).hexdigest()}


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over tmp_path/www, counting the requests it answers."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            hits.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def stage(tmp_path, dataset, source, official, **kw):
    """The data stage as the pipeline runs it: acquire, then cache."""
    out = tmp_path / "results" / "data"
    data, info = acquire(dataset, source, official, out / "download", **kw)
    return save_cached(data, info, dataset, out / f"{dataset}.pt", out / f"{dataset}.json"), out


def test_official_download_is_md5_checked_cached_and_not_repeated(tmp_path, server):
    root, url, hits = server
    _, made = official_archive(root / "cifar-10-python.tar.gz")
    official = {"url": f"{url}/cifar-10-python.tar.gz", "md5": made["md5"]}
    meta, out = stage(tmp_path, "cifar10", "official", official)
    assert meta["source"] == {
        "kind": "official",
        "location": official["url"],
        "md5": made["md5"],
        "sha256": meta["source"]["sha256"],
        "verified": "md5",
    }
    assert meta["counts"] == {"train": 5 * PER_BATCH, "test": PER_BATCH}
    assert meta["classes"] == list(CIFAR10_CLASSES)
    data, meta2 = load_cached(out / "cifar10.pt")
    assert meta2 == read_sealed_json(out / "cifar10.json") == meta
    x1, y1 = made["content"]["data_batch_1"]
    assert torch.equal(data.train_x[:PER_BATCH], torch.from_numpy(x1.reshape(-1, 3, 32, 32)))
    assert data.train_y[:PER_BATCH].tolist() == y1
    assert data.test_y.tolist() == made["content"]["test_batch"][1]
    assert len(hits) == 1
    stage(tmp_path, "cifar10", "official", official)
    assert len(hits) == 1  # the verified download is reused


def test_cifar100_goes_through_the_same_code(tmp_path, server):
    root, url, _ = server
    _, made = official_archive(root / "cifar-100-python.tar.gz", dataset="cifar100")
    meta, _ = stage(tmp_path, "cifar100", "official", {"url": f"{url}/cifar-100-python.tar.gz", "md5": made["md5"]})
    assert meta["counts"] == {"train": PER_BATCH, "test": PER_BATCH}
    assert meta["classes"] == made["classes"] and len(meta["classes"]) == 100


def test_wrong_md5_fails_naming_the_file_and_leaves_nothing(tmp_path, server):
    root, url, _ = server
    official_archive(root / "cifar-10-python.tar.gz")
    official = {"url": f"{url}/cifar-10-python.tar.gz", "md5": "0" * 32}
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz: MD5 checksum mismatch: expected 0{32}"):
        stage(tmp_path, "cifar10", "official", official)
    data_dir = tmp_path / "results" / "data"
    assert not list(data_dir.rglob("*.*"))


def test_truncated_download_fails(tmp_path, server):
    root, url, _ = server
    path, made = official_archive(root / "cifar-10-python.tar.gz")
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match="MD5 checksum mismatch"):
        stage(tmp_path, "cifar10", "official", {"url": f"{url}/cifar-10-python.tar.gz", "md5": made["md5"]})


def test_no_network_fails_at_once_with_the_offline_hint(tmp_path, server):
    _, url, _ = server
    dead = url.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens there
    with pytest.raises(DataError, match="cannot download .*--config data_source=") as err:
        stage(tmp_path, "cifar10", "official", {"url": f"{dead}/cifar-10-python.tar.gz", "md5": "0" * 32}, timeout=5)
    assert "127.0.0.1:9/cifar-10-python.tar.gz" in str(err.value)


def test_local_official_archive_is_checked_against_the_official_md5(tmp_path):
    path, made = official_archive(tmp_path / "cifar-10-python.tar.gz")
    meta, _ = stage(tmp_path, "cifar10", str(path), {"url": "http://unused/cifar-10-python.tar.gz", "md5": made["md5"]})
    assert meta["source"]["verified"] == "md5" and meta["source"]["layout"] == "official"
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz: MD5 checksum mismatch"):
        stage(tmp_path, "cifar10", str(path), {"url": "http://unused/cifar-10-python.tar.gz", "md5": "f" * 32})


def test_image_folder_directory_and_archive_give_the_same_cached_data(tmp_path):
    tree = image_folder(tmp_path / "copy" / "cifar10-png")
    meta_dir, out = stage(tmp_path / "a", "cifar10", str(tree), {"url": "http://unused/x", "md5": "0" * 32})
    archive = tar_of(tree, tmp_path / "cifar10-png.tar.gz")
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n")
    meta_tar, out_tar = stage(tmp_path / "b", "cifar10", str(archive), {"url": "http://unused/x", "md5": "0" * 32})
    assert meta_dir["file_sha256"] == meta_tar["file_sha256"]
    assert meta_tar["source"]["verified"] == "sha256" and meta_dir["source"]["verified"] is False
    data, _ = load_cached(out / "cifar10.pt")
    assert data.per_class("train") == [2] * 10 and data.per_class("test") == [1] * 10
    first = np.asarray(Image.open(tree / "train" / "airplane" / "0000.png")).transpose(2, 0, 1)
    assert torch.equal(data.train_x[0], torch.tensor(first))
    truck = np.asarray(Image.open(tree / "test" / "truck" / "0000.png")).transpose(2, 0, 1)
    assert data.test_y[-1] == 9 and torch.equal(data.test_x[-1], torch.tensor(truck))


def test_missing_class_folder_is_named(tmp_path):
    tree = image_folder(tmp_path / "t", classes=[c for c in CIFAR10_CLASSES if c != "frog"])
    with pytest.raises(DataError, match=r"class folder train/frog/ is missing|found 9 class folders"):
        stage(tmp_path, "cifar10", str(tree), {"url": "http://unused/x", "md5": "0" * 32})
    assert not (tmp_path / "results" / "data" / "cifar10.pt").exists()


def test_missing_test_class_folder_is_named(tmp_path):
    tree = image_folder(tmp_path / "t")
    for f in (tree / "test" / "ship").iterdir():
        f.unlink()
    (tree / "test" / "ship").rmdir()
    with pytest.raises(DataError, match=r"class folder test/ship/ is missing"):
        stage(tmp_path, "cifar10", str(tree), {"url": "http://unused/x", "md5": "0" * 32})


def test_wrong_image_size_names_the_image(tmp_path):
    tree = image_folder(tmp_path / "t")
    Image.fromarray(np.zeros((30, 32, 3), dtype=np.uint8)).save(tree / "train" / "cat" / "0001.png")
    with pytest.raises(DataError, match=r"train/cat/0001\.png is 32×30, not 32×32"):
        stage(tmp_path, "cifar10", str(tree), {"url": "http://unused/x", "md5": "0" * 32})
    assert not (tmp_path / "results" / "data" / "cifar10.pt").exists()


def test_corrupt_image_names_the_image(tmp_path):
    tree = image_folder(tmp_path / "t")
    (tree / "test" / "dog" / "0000.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"test/dog/0000\.png is not a readable image"):
        stage(tmp_path, "cifar10", str(tree), {"url": "http://unused/x", "md5": "0" * 32})


def test_wrong_sha256_and_truncated_archive_fail_naming_the_file(tmp_path):
    archive = tar_of(image_folder(tmp_path / "t"), tmp_path / "copy.tar.gz")
    with pytest.raises(DataError, match=r"copy\.tar\.gz: SHA256 checksum mismatch: expected a{64}"):
        stage(tmp_path, "cifar10", str(archive), {"url": "http://unused/x", "md5": "0" * 32}, sha256="a" * 64)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match=r"copy\.tar\.gz.*truncated"):
        stage(tmp_path, "cifar10", str(archive), {"url": "http://unused/x", "md5": "0" * 32})
    assert not (tmp_path / "results" / "data" / "cifar10.pt").exists()


def test_missing_source_is_named(tmp_path):
    with pytest.raises(DataError, match=r"data_source '/no/such/copy': no such file"):
        stage(tmp_path, "cifar10", "/no/such/copy", {"url": "http://unused/x", "md5": "0" * 32})


def test_synthetic_is_seeded_shaped_and_cached_like_the_others(tmp_path):
    a, b, c = synthetic(64, 32, seed=3), synthetic(64, 32, seed=3), synthetic(64, 32, seed=4)
    assert torch.equal(a.train_x, b.train_x) and not torch.equal(a.train_x, c.train_x)
    meta, out = stage(
        tmp_path,
        "cifar10",
        "synthetic",
        {"url": "x", "md5": "0" * 32},
        synthetic_cfg={"train": 64, "test": 32, "seed": 3},
    )
    data, _ = load_cached(out / "cifar10.pt")
    assert data.train_x.shape == (64, 3, 32, 32) and data.test_y.dtype == torch.int64
    assert meta["source"]["kind"] == "synthetic" and meta["counts"] == {"train": 64, "test": 32}


def test_a_corrupted_cached_file_is_refused(tmp_path):
    _, out = stage(
        tmp_path, "cifar10", "synthetic", {"url": "x", "md5": "0" * 32}, synthetic_cfg={"train": 16, "test": 8}
    )
    pt = out / "cifar10.pt"
    blob = bytearray(pt.read_bytes())
    blob[-100] ^= 0xFF
    pt.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"cifar10\.pt: SHA-256 .* does not match"):
        load_cached(pt)
    pt.write_bytes(bytes(blob[:-100] + bytes([blob[-100] ^ 0xFF]) + blob[-99:]))  # whole again
    load_cached(pt)
    meta = out / "cifar10.json"
    meta.write_text(meta.read_text().replace('"channel_mean": [', '"channel_mean": [1'))  # a number changed
    with pytest.raises(DataError, match=r"cifar10\.json cannot be read \(ValueError: SHA-256 mismatch"):
        load_cached(pt)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason=f"offline CIFAR-10 copy not found at {SHARED_DATA}")
def test_offline_cifar10_copy_is_complete_and_in_official_order(tmp_path):
    meta, _ = stage(
        tmp_path, "cifar10", str(SHARED_DATA), {"url": "http://unused/cifar-10-python.tar.gz", "md5": "0" * 32}
    )
    assert meta["counts"] == {"train": 50_000, "test": 10_000}
    assert meta["per_class"] == {"train": [5000] * 10, "test": [1000] * 10}
    assert meta["classes"] == list(CIFAR10_CLASSES)
    assert meta["source"]["verified"] == "sha256"
    for ours, cifar in zip(meta["channel_mean"], (125.3, 123.0, 113.9)):
        assert abs(ours - cifar) < 1.0
