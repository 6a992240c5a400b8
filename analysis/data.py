"""Datasets as uint8 tensors on the target device, vectorised augmentation, and label noise.

Every split is loaded once through torchvision's own dataset classes (their checksums included)
into one uint8 tensor of shape (N, 3, 32, 32). Augmentation and normalisation then run on whole
batches on the device: no per-image Python and no DataLoader workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

DATA_ROOT_ENV = "DATADIET_DATA_ROOT"

# Per-channel statistics of the training images (the authors' code uses CIFAR-10's for CIFAR-100).
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
CINIC_MEAN = (0.47889522, 0.47227842, 0.43047404)
CINIC_STD = (0.24205776, 0.23828046, 0.25874835)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CLASS_NAMES = {"cifar10": CIFAR10_CLASSES, "cinic10": CIFAR10_CLASSES}  # CINIC-10 has CIFAR-10's classes

CINIC10_URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3192/CINIC-10.tar.gz"


def class_names(dataset: str, num_classes: int) -> tuple:
    """The dataset's class names, or the class indices where it has none."""
    return CLASS_NAMES.get(dataset) or tuple(range(num_classes))


class DatasetError(RuntimeError):
    """A dataset is missing, cannot be downloaded, or fails its checksum."""


def data_root(flag: str | os.PathLike | None = None) -> Path:
    """The data root: the `--data-root` flag, else $DATADIET_DATA_ROOT, else ~/.cache/datadiet/data."""
    if flag:
        return Path(flag).expanduser()
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "datadiet" / "data"


@dataclass(frozen=True)
class ImageDataset:
    """A labelled image dataset held as uint8 NCHW tensors on one device."""

    name: str
    train_images: Tensor  # uint8 (N, 3, 32, 32)
    train_labels: Tensor  # int64 (N,)
    test_images: Tensor  # uint8 (M, 3, 32, 32)
    test_labels: Tensor  # int64 (M,)
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    # Position of each training example in the full dataset's own (torchvision) order.
    source_indices: Tensor = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.source_indices is None:
            object.__setattr__(self, "source_indices", torch.arange(len(self.train_labels)))

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def normalize(self, images: Tensor) -> Tensor:
        """uint8 or float-in-[0, 255] images -> float32 images normalised with the dataset's mean/std."""
        mean = torch.tensor(self.mean, device=images.device).view(1, 3, 1, 1) * 255
        std = torch.tensor(self.std, device=images.device).view(1, 3, 1, 1) * 255
        return (images.float() - mean) / std

    def with_train_subset(self, indices: Tensor) -> ImageDataset:
        """The same dataset with its training split restricted to `indices` (in this dataset's order)."""
        indices = indices.to(self.train_labels.device)
        return replace(
            self,
            train_images=self.train_images[indices],
            train_labels=self.train_labels[indices],
            source_indices=self.source_indices.to(indices.device)[indices],
        )

    def with_train_labels(self, labels: Tensor) -> ImageDataset:
        """The same dataset with replaced training labels (e.g. after `corrupt_labels`)."""
        return replace(self, train_labels=labels.to(self.train_labels.device))

    def to(self, device: str | torch.device) -> ImageDataset:
        move = {k: getattr(self, k).to(device) for k in
                ("train_images", "train_labels", "test_images", "test_labels", "source_indices")}
        return replace(self, **move)


def _as_tensors(images: np.ndarray, labels) -> tuple[Tensor, Tensor]:
    """(N, H, W, C) uint8 array and labels -> (N, C, H, W) uint8 tensor and int64 tensor."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
    return x, torch.as_tensor(np.asarray(labels), dtype=torch.int64)


def _torchvision_cifar(cls, folder: str, root: Path, download: bool) -> tuple:
    """Load both splits of CIFAR-10/100 through torchvision, with clear errors."""
    from torchvision.datasets.cifar import check_integrity  # the function torchvision's CIFAR classes use

    present = (root / folder).is_dir()
    if present:
        files = [*cls.train_list, *cls.test_list, (cls.meta["filename"], cls.meta["md5"])]
        if not all(check_integrity(str(root / folder / name), md5) for name, md5 in files):
            raise DatasetError(
                f"{cls.__name__} at {root / folder} fails torchvision's md5 checksum: the files are "
                f"corrupted or not the official release. Delete that folder and re-download, "
                f"or point --data-root / ${DATA_ROOT_ENV} at an intact copy."
            )
    elif not download:
        raise DatasetError(
            f"{cls.__name__} not found at {root / folder}. Put the official '{folder}' folder "
            f"there, pass --data-root, or set ${DATA_ROOT_ENV} to the folder that holds it."
        )
    try:
        train = cls(str(root), train=True, download=not present)
        test = cls(str(root), train=False, download=False)
    except Exception as err:  # torchvision raises URLError/OSError/RuntimeError on a failed fetch
        raise DatasetError(
            f"{cls.__name__} not found at {root / folder} and downloading it failed ({err}). "
            f"Without internet, copy the official '{folder}' folder there, or pass --data-root / "
            f"set ${DATA_ROOT_ENV} to the folder that holds it."
        ) from err
    return _as_tensors(train.data, train.targets), _as_tensors(test.data, test.targets)


def _load_cinic10(root: Path, download: bool) -> tuple:
    """CINIC-10 through ImageFolder; the paper trains on train+valid and tests on test."""
    from torchvision.datasets import ImageFolder
    from torchvision.datasets.utils import download_and_extract_archive

    folder = root / "cinic-10"
    if not folder.is_dir():
        if not download:
            raise DatasetError(
                f"CINIC-10 not found at {folder}. Extract CINIC-10.tar.gz there (train/, valid/, "
                f"test/), pass --data-root, or set ${DATA_ROOT_ENV}."
            )
        try:
            download_and_extract_archive(CINIC10_URL, str(folder))
        except Exception as err:
            raise DatasetError(
                f"CINIC-10 not found at {folder} and downloading it failed ({err}). Extract "
                f"CINIC-10.tar.gz there by hand, or pass --data-root / set ${DATA_ROOT_ENV}."
            ) from err

    def split(*names: str) -> tuple[Tensor, Tensor]:
        images, labels = [], []
        for name in names:
            ds = ImageFolder(str(folder / name))
            for path, label in ds.samples:
                images.append(np.asarray(ds.loader(path).convert("RGB"), dtype=np.uint8))
                labels.append(label)
        return _as_tensors(np.stack(images), labels)

    return split("train", "valid"), split("test")


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    download: bool = True,
) -> ImageDataset:
    """Load `name` ('cifar10', 'cifar100' or 'cinic10') from the data root onto `device`."""
    from torchvision.datasets import CIFAR10, CIFAR100

    path = data_root(root)
    if name == "cifar10":
        train, test = _torchvision_cifar(CIFAR10, "cifar-10-batches-py", path, download)
        classes, mean, std = 10, CIFAR_MEAN, CIFAR_STD
    elif name == "cifar100":
        train, test = _torchvision_cifar(CIFAR100, "cifar-100-python", path, download)
        classes, mean, std = 100, CIFAR_MEAN, CIFAR_STD
    elif name == "cinic10":
        train, test = _load_cinic10(path, download)
        classes, mean, std = 10, CINIC_MEAN, CINIC_STD
    else:
        raise ValueError(f"Unknown dataset {name!r}: choose one of 'cifar10', 'cifar100', 'cinic10'.")
    return ImageDataset(name, *train, *test, num_classes=classes, mean=mean, std=std).to(device)


def augment(images: Tensor, generator: torch.Generator) -> Tensor:
    """Reflect-pad 4, random 32x32 crop, random horizontal flip: (B, C, H, W) -> float (B, C, H, W).

    Vectorised over the batch; `generator` (on the images' device) makes it deterministic.
    """
    b, c, h, w = images.shape
    device = images.device
    padded = F.pad(images.float(), (4, 4, 4, 4), mode="reflect")
    dy = torch.randint(0, 9, (b, 1), device=device, generator=generator)
    dx = torch.randint(0, 9, (b, 1), device=device, generator=generator)
    flip = torch.rand(b, device=device, generator=generator) < 0.5
    rows = dy + torch.arange(h, device=device)
    cols = dx + torch.arange(w, device=device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # a flip is a reversed column index
    batch = torch.arange(b, device=device)[:, None, None, None]
    chan = torch.arange(c, device=device)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]


def corrupt_labels(labels: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Permute the labels of int(N * fraction) randomly chosen examples among themselves.

    As in the authors' code: class counts are preserved and some chosen examples keep their
    label by chance. Returns (noisy_labels, is_noisy), where is_noisy marks labels that changed.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    g = torch.Generator().manual_seed(seed)
    n = int(len(labels) * fraction)
    chosen = torch.randperm(len(labels), generator=g)[:n].to(labels.device)
    shuffled = chosen[torch.randperm(n, generator=g).to(labels.device)]
    noisy = labels.clone()
    noisy[chosen] = labels[shuffled]
    return noisy, noisy != labels


def class_balanced_subset(labels: Tensor, per_class: int, seed: int) -> Tensor:
    """Sorted indices of `per_class` examples drawn at random from each class."""
    g = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    picks = []
    for c in labels.unique():
        members = torch.nonzero(labels == c).flatten()
        if len(members) < per_class:
            raise ValueError(f"class {int(c)} has {len(members)} examples, fewer than {per_class}")
        picks.append(members[torch.randperm(len(members), generator=g)[:per_class]])
    return torch.cat(picks).sort().values
