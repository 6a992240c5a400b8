import pickle
import shutil

import numpy as np
import pytest
import torch

from analysis.data import (
    DatasetError,
    augment,
    class_balanced_subset,
    corrupt_labels,
    data_root,
    load_dataset,
)


def test_cifar10_loads_real_data(cifar10):
    assert cifar10.train_images.shape == (50_000, 3, 32, 32)
    assert cifar10.test_images.shape == (10_000, 3, 32, 32)
    assert cifar10.train_images.dtype == torch.uint8
    assert torch.equal(torch.bincount(cifar10.train_labels), torch.full((10,), 5_000))
    assert torch.equal(torch.bincount(cifar10.test_labels), torch.full((10,), 1_000))


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("DATADIET_DATA_ROOT", str(tmp_path / "env"))
    assert data_root(tmp_path / "flag") == tmp_path / "flag"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("DATADIET_DATA_ROOT")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "datadiet" / "data"


def test_augment_shapes_determinism_and_crop(cifar10):
    images = cifar10.train_images[:64]
    a = augment(images, torch.Generator().manual_seed(3))
    b = augment(images, torch.Generator().manual_seed(3))
    c = augment(images, torch.Generator().manual_seed(4))
    assert a.shape == images.shape and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    # every output is a 32x32 window of the reflect-padded image, possibly mirrored
    padded = torch.nn.functional.pad(images[:1].float(), (4, 4, 4, 4), mode="reflect")[0]
    windows = [padded[:, i : i + 32, j : j + 32] for i in range(9) for j in range(9)]
    assert any(torch.equal(a[0], w) or torch.equal(a[0], w.flip(2)) for w in windows)


def test_corrupt_labels_changes_exactly_what_it_reports():
    labels = torch.arange(10).repeat(100)
    noisy, is_noisy = corrupt_labels(labels, 0.3, seed=0)
    assert torch.equal(noisy != labels, is_noisy)
    assert 0 < is_noisy.sum() <= 300
    assert torch.equal(torch.bincount(noisy), torch.bincount(labels))
    again, _ = corrupt_labels(labels, 0.3, seed=0)
    assert torch.equal(noisy, again)
    assert torch.equal(corrupt_labels(labels, 0.0, seed=0)[0], labels)


def test_class_balanced_subset():
    labels = torch.arange(10).repeat(50)
    idx = class_balanced_subset(labels, 7, seed=1)
    assert len(idx) == 70 and torch.equal(torch.bincount(labels[idx]), torch.full((10,), 7))
    assert torch.equal(idx, idx.sort().values)
    with pytest.raises(ValueError):
        class_balanced_subset(labels, 51, seed=1)


def test_missing_dataset_says_where_and_how(tmp_path):
    with pytest.raises(DatasetError, match=r"not found at .*cifar-10-batches-py.*--data-root"):
        load_dataset("cifar10", root=tmp_path, download=False)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    def no_network(self):
        raise OSError("no network")

    monkeypatch.setattr(CIFAR10, "download", no_network)
    with pytest.raises(DatasetError, match="downloading it failed"):
        load_dataset("cifar10", root=tmp_path, download=True)


def test_corrupted_dataset_fails_checksum(tmp_path):
    from analysis.data import data_root as root

    source = root() / "cifar-10-batches-py"
    target = tmp_path / "cifar-10-batches-py"
    target.mkdir()
    for f in source.iterdir():
        (target / f.name).symlink_to(f)
    (target / "batches.meta").unlink()
    shutil.copy(source / "batches.meta", target / "batches.meta")
    with open(target / "batches.meta", "ab") as f:
        f.write(b"x")
    with pytest.raises(DatasetError, match="checksum"):
        load_dataset("cifar10", root=tmp_path)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="Unknown dataset 'mnist'"):
        load_dataset("mnist")


def test_cifar100_loader_reads_the_official_format(tmp_path, monkeypatch):
    """Tiny files in CIFAR-100's python format (not the real data: that is not on this machine)."""
    import torchvision.datasets.cifar

    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 20), ("test", 10)):
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "fine_labels": list(range(n)),
                 "coarse_labels": [0] * n}
        (folder / split).write_bytes(pickle.dumps(entry))
    (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": [f"c{i}" for i in range(100)]}))
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)  # not the release
    data = load_dataset("cifar100", root=tmp_path)
    assert data.train_images.shape == (20, 3, 32, 32) and data.num_classes == 100
    assert data.train_labels.tolist() == list(range(20))
    first = np.frombuffer(pickle.loads((folder / "train").read_bytes())["data"][0], np.uint8).reshape(3, 32, 32)
    assert np.array_equal(data.train_images[0].numpy(), first)


def test_cinic10_loader_uses_train_and_valid(tmp_path):
    """Tiny CINIC-10-layout PNG folders; the paper trains on train+valid."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, per_class in (("train", 2), ("valid", 1), ("test", 1)):
        for c in ("airplane", "automobile"):
            d = tmp_path / "cinic-10" / split / c
            d.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(d / f"{i}.png")
    data = load_dataset("cinic10", root=tmp_path)
    assert len(data.train_labels) == 6 and len(data.test_labels) == 2
    assert sorted(data.train_labels.tolist()) == [0, 0, 0, 1, 1, 1]
