"""Training: the paper's protocol on any index subset, cached in the run store and resumable.

One run is fully described by a `TrainConfig`. Data order and augmentation are drawn from
generators seeded by (seed, epoch) and (seed, step), so a run resumed from its last saved state
continues exactly as if it had never stopped. The trainer records, on the device and without
extra passes, test accuracy over training and each example's correctness at every presentation
(folded into forgetting counts), and saves checkpoints at requested steps.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from analysis.data import ImageDataset, augment, class_balanced_subset, corrupt_labels, load_dataset
from analysis.models import build_model, whiten_stem
from analysis.scores import ForgettingTracker
from analysis.store import Result, RunStore, array_digest, atomic_write, config_key, numerics


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or inf; the run is abandoned and nothing is stored."""


@dataclass(frozen=True)
class DataSpec:
    """Which training and test examples a run sees, and their labels."""

    dataset: str = "cifar10"
    train_per_class: int = 0  # 0: the whole training set; else a class-balanced subset of this size per class
    test_examples: int = 0  # 0: the whole test set; else its first `test_examples` examples
    label_noise: float = 0.0  # fraction of training labels permuted by `corrupt_labels`
    subset_seed: int = 0  # seeds the class-balanced subset and the label noise

    def load(self, device: str | torch.device = "cpu", root: str | None = None) -> tuple[ImageDataset, Tensor]:
        """The dataset on `device` and a bool mask of training examples whose label was corrupted."""
        return _load_spec(self, str(device), root)


@lru_cache(maxsize=4)
def _load_spec(spec: DataSpec, device: str, root: str | None) -> tuple[ImageDataset, Tensor]:
    data = load_dataset(spec.dataset, root=root, device="cpu")
    if spec.train_per_class:
        data = data.with_train_subset(class_balanced_subset(data.train_labels, spec.train_per_class, spec.subset_seed))
    if spec.test_examples:
        data = ImageDataset(
            data.name, data.train_images, data.train_labels, data.test_images[: spec.test_examples],
            data.test_labels[: spec.test_examples], data.num_classes, data.mean, data.std, data.source_indices,
        )
    is_noisy = torch.zeros(len(data.train_labels), dtype=torch.bool)
    if spec.label_noise:
        noisy, is_noisy = corrupt_labels(data.train_labels, spec.label_noise, spec.subset_seed)
        data = data.with_train_labels(noisy)
    return data.to(device), is_noisy


# Fields added after the first stored results, with the value every earlier run had: a field at that value is left
# out of the run's key, so the keys (and folders) of earlier results stay valid.
_KEYLESS_AT = {"init": "torch", "label_smoothing": 0.0, "schedule": "step", "lr_warmup": 0.0, "bias_lr_scale": 1.0}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. Defaults are the paper's CIFAR-10 protocol."""

    data: DataSpec = field(default_factory=DataSpec)
    model: str = "resnet18"
    width: int = 64
    seed: int = 0  # initialisation, data order and augmentation
    steps: int = 78_000  # fixed by the full-data run: 200 epochs x 390 steps
    batch_size: int = 128
    lr: float = 0.1  # the step schedule's initial rate; the peak of the linear one
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4  # on all parameters, BatchNorm included
    lr_milestones: tuple[float, ...] = (0.3, 0.6, 0.8)  # epochs 60, 120, 160 of 200 (step schedule)
    lr_gamma: float = 0.2
    augment: bool = True
    subset: str = "full"  # digest of the training index subset (`array_digest`), or "full"
    save_steps: tuple[int, ...] = ()  # checkpoints to keep (score epochs, spawn points)
    eval_every: int = 1_000  # steps between test evaluations
    init_from: str = ""  # "<train key>@<step>": start from a parent run's checkpoint (LMC children)
    init: str = "lecun"  # the authors' Flax initialisation; "torch": PyTorch's defaults (see analysis.models)
    label_smoothing: float = 0.0  # of the training loss only; scores always use the plain labels
    schedule: str = "step"  # "step": x lr_gamma at each milestone; "linear": warm up, then decay linearly to 0
    lr_warmup: float = 0.0  # share of the steps over which the rate rises linearly from 0 to `lr`
    bias_lr_scale: float = 1.0  # the BatchNorm shifts' rate multiple (airbench94: 64); see new_optimizer

    def __post_init__(self) -> None:
        if self.schedule not in ("step", "linear"):
            raise ValueError(f"Unknown learning-rate schedule {self.schedule!r}: choose 'step' or 'linear'.")

    def lr_at(self, step: int) -> float:
        warm = self.lr_warmup * self.steps
        if step < warm:
            return self.lr * step / warm
        if self.schedule == "linear":
            return self.lr * (self.steps - step) / max(self.steps - warm, 1)
        passed = sum(step >= int(m * self.steps) for m in self.lr_milestones)
        return self.lr * self.lr_gamma**passed

    def parent(self) -> tuple[str, int] | None:
        """(train key, step) of the checkpoint this run starts from, or None for a run from scratch."""
        if not self.init_from:
            return None
        key, step = self.init_from.rsplit("@", 1)
        return key, int(step)

    def start_step(self) -> int:
        return self.parent()[1] if self.init_from else 0

    def key_dict(self) -> dict:
        """The config as stored and hashed (`config_key`); see `_KEYLESS_AT`."""
        return {k: v for k, v in asdict(self).items() if k not in _KEYLESS_AT or v != _KEYLESS_AT[k]}

    @classmethod
    def from_key_dict(cls, stored: dict) -> TrainConfig:
        """The config a stored `key_dict` (a result's config.json) was made from."""
        fields = {**_KEYLESS_AT, **stored, "data": DataSpec(**stored["data"])}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def resolve_device(device: str | None = None) -> torch.device:
    """'auto' or None -> CUDA when available, else CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _mix(*ints: int) -> int:
    """A deterministic 63-bit seed from several integers."""
    h = 0x9E3779B97F4A7C15
    for i in ints:
        h = (h ^ (i + 0x7F4A7C15 + (h << 6) + (h >> 2))) & 0x7FFF_FFFF_FFFF_FFFF
    return h


def autocast(device: torch.device):
    """bf16 autocast on CUDA; plain float32 elsewhere."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


NARROWEST_CHANNELS_LAST = 8


def memory_format(model: nn.Module) -> torch.memory_format:
    """The network's layout: channels_last, unless a convolution has fewer than 8 output channels.

    channels_last trains ResNet-18 width 8-16 and VGG-11 width 16 1.0-1.4x faster on this project's 2-core CPU
    (measured, batch 128). Below 8 channels (ResNet-18 width 4) oneDNN's channels_last backward in torch 2.14.1
    corrupts memory on CPU: "double free or corruption", hung processes and run-to-run different accuracies from
    one seed (measured); the default layout is exact there.
    """
    convs = [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)]
    narrow = min(convs, default=NARROWEST_CHANNELS_LAST) < NARROWEST_CHANNELS_LAST
    return torch.contiguous_format if narrow else torch.channels_last


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    return model.to(device).to(memory_format=memory_format(model))


@torch.no_grad()
def count_correct(
    model: nn.Module, images: Tensor, labels: Tensor, batch: int = 1000,
    prepare: Callable[[Tensor], Tensor] | None = None,
) -> int:
    """How many `images` `model`, in eval mode, classifies as `labels` (top-1): the one evaluation loop.

    `images` are float (N, C, H, W), normalised as the network expects, or whatever `prepare` turns
    batch by batch into that (the trainer passes uint8 images and `data.normalize`). Batches of
    `batch` on the model's device, under `autocast`. The model is left in eval mode. A count, not a
    rate, so that accuracy (correct / N) and error ((N - correct) / N) are each one exact division.
    """
    model.eval()
    device = next(model.parameters()).device
    correct = torch.zeros((), device=device, dtype=torch.long)
    for i in range(0, len(labels), batch):
        x = images[i : i + batch].to(device)
        if prepare is not None:
            x = prepare(x)
        with autocast(device):
            logits = model(x)
        correct += (logits.argmax(1) == labels[i : i + batch].to(device)).sum()
    return int(correct.item())


def accuracy(model: nn.Module, images: Tensor, labels: Tensor, data: ImageDataset, batch: int = 1000) -> float:
    """Top-1 accuracy of `model` in eval mode on uint8 `images` (`count_correct`); restores the model's mode."""
    was_training = model.training
    correct = count_correct(model, images, labels, batch, data.normalize)
    model.train(was_training)
    return correct / max(len(labels), 1)


WHITENING_IMAGES = 5_000  # airbench94's: the stem of an init="airbench" run whitens its first 5,000 training images


def new_model(config: TrainConfig, num_classes: int, device: torch.device,
              train_images: Tensor | None = None) -> nn.Module:
    """The run's initial network, seeded by `config.seed` without touching the global RNG.

    `train_images`: the normalised images an `init="airbench"` network's stem whitens (`whitening_images`,
    `whiten_stem`); no other initialisation reads data.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config.model, num_classes, config.width, config.init)
    if config.init == "airbench":
        if train_images is None:
            raise ValueError("init='airbench' whitens the run's training images: pass them as `train_images`")
        whiten_stem(model, train_images.float().cpu())
    return prepare_model(model, device)


def whitening_images(config: TrainConfig, data: ImageDataset, subset: Tensor | None = None) -> Tensor | None:
    """The normalised images an `init="airbench"` run's stem whitens: the first `WHITENING_IMAGES` of its training
    set (`subset`, else all) in dataset order; None for every other initialisation."""
    if config.init != "airbench":
        return None
    positions = torch.arange(len(data.train_labels)) if subset is None else subset.cpu().sort().values
    return data.normalize(data.train_images[positions[:WHITENING_IMAGES].to(data.train_images.device)])


def new_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD over the trainable parameters (in `model.parameters()` order, one group), unless `bias_lr_scale` is not 1:
    then the BatchNorm shifts form a second group, whose rate `set_lr` multiplies by it and whose weight decay is
    divided by it, so their decay per step (rate x decay) is every other parameter's."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": params}]
    if config.bias_lr_scale != 1.0:
        shifts = {id(m.bias) for m in model.modules() if isinstance(m, nn.BatchNorm2d)}
        groups = [{"params": [p for p in params if id(p) not in shifts]},
                  {"params": [p for p in params if id(p) in shifts],
                   "weight_decay": config.weight_decay / config.bias_lr_scale}]
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                           weight_decay=config.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, config: TrainConfig, step: int) -> None:
    """The schedule's rate at `step`; the BatchNorm shifts' group (`new_optimizer`) at `bias_lr_scale` times it."""
    rate = config.lr_at(step)
    for group, scale in zip(optimizer.param_groups, (1.0, config.bias_lr_scale)):
        group["lr"] = rate * scale


def run_training(
    config: TrainConfig,
    store: RunStore,
    subset: Tensor | None = None,
    device: str | None = None,
    force: bool = False,
    on_eval: Callable[[int], None] | None = None,
    compile_model: bool = False,
    checkpoints: bool = False,
) -> Result:
    """Train `config` (on `subset` of the training set, if given), or load its stored result.

    `checkpoints`: the run's checkpoints must be on disk, so a stored run without them is retrained
    (`_regenerate`).

    `on_eval(step)` is called after each evaluation, once the resume state is saved (tests use
    it to interrupt a run).
    """
    expected = "full" if subset is None else array_digest(subset)
    if config.subset != expected:
        raise ValueError(f"config.subset is {config.subset!r} but the subset passed has digest {expected!r}")
    dev = resolve_device(device)
    stored = store.load("train", config.key_dict()) if checkpoints and not force else None
    if stored and checkpoints_missing(config, store):
        return _regenerate(config, store, subset, dev, stored)
    return store.get_or_compute(
        "train", config.key_dict(),
        lambda: _train(config, store, subset, dev, on_eval, compile_model), device=str(dev), force=force,
    )


@contextmanager
def recorded_threads(metrics: dict) -> Iterator[int]:
    """Run the block with the torch thread count a stored result's provenance records (this process's if none),
    then restore it; yields the count used."""
    threads = torch.get_num_threads()
    used = metrics.get("provenance", {}).get("threads", threads)
    torch.set_num_threads(used)
    try:
        yield used
    finally:
        torch.set_num_threads(threads)


def _regenerate(config: TrainConfig, store: RunStore, subset: Tensor | None, device: torch.device,
                stored: Result) -> Result:
    """Retrain a stored run whose checkpoints are gone, with the thread count it was made with.

    The same key, threads and layout give bitwise the same run; a changed number means today's code
    computes something else, so it replaces the stored result, with a warning, and every result computed
    from the old one (its scores, kernels, LMC children) is deleted.
    """
    with recorded_threads(stored.metrics) if device.type == "cpu" else nullcontext():
        result = store.get_or_compute("train", config.key_dict(),
                                      lambda: _train(config, store, subset, device, None, False),
                                      device=str(device), force=True)
    before, after = stored.metrics.get("final_test_acc"), result.metrics.get("final_test_acc")
    if before != after:
        key = config_key("train", config.key_dict())
        dropped = store.drop_dependents(key)
        warnings.warn(f"run {key} retrained to {after} test accuracy where its stored result had {before}: today's "
                      f"code computes it differently; the new result replaces the old, and the {len(dropped)} "
                      "results computed from the old one are deleted, to be recomputed", stacklevel=2)
    return result


def checkpoint_path(store: RunStore, config: TrainConfig | str, step: int) -> Path:
    """Where run `config` (or the run with that train key) keeps its network at `step`."""
    return store.scratch("train", config if isinstance(config, str) else config.key_dict()) / f"step_{step}.pt"


def checkpoints_missing(config: TrainConfig, store: RunStore) -> bool:
    """Whether some checkpoint of the run is not on disk (step 0 from scratch is rebuilt from the seed)."""
    return any(not checkpoint_path(store, config, s).exists() for s in config.save_steps if s or config.init_from)


def load_checkpoint(
    config: TrainConfig, step: int, store: RunStore, subset: Tensor | None = None, device: str | None = None
) -> nn.Module:
    """The run's network at `step` (in `config.save_steps`), retraining the run if the file is gone.

    Step 0 of a run from scratch is its initialisation, rebuilt from the seed without training.
    """
    if step not in config.save_steps:
        raise ValueError(f"step {step} is not in the run's save_steps {config.save_steps}")
    dev = resolve_device(device)
    data, _ = config.data.load(dev)
    model = new_model(config, data.num_classes, dev, whitening_images(config, data, subset))
    if step == 0 and not config.init_from:
        return model
    path = checkpoint_path(store, config, step)
    if not path.exists():  # e.g. a fresh clone holds results but never checkpoints: recompute them
        run_training(config, store, subset, device=str(dev), checkpoints=True)
    model.load_state_dict(torch.load(path, map_location=dev)["model"])
    return model


def _train(
    config: TrainConfig,
    store: RunStore,
    subset: Tensor | None,
    device: torch.device,
    on_eval: Callable[[int], None] | None,
    compile_model: bool,
) -> Result:
    start_time = time.perf_counter()
    data, _ = config.data.load(device)
    n_train = len(data.train_labels)
    positions = (torch.arange(n_train) if subset is None else subset.cpu()).to(device)
    steps_per_epoch = len(positions) // config.batch_size  # the last partial batch is dropped
    if steps_per_epoch == 0:
        raise ValueError(f"subset of {len(positions)} examples is smaller than one batch ({config.batch_size})")

    model = new_model(config, data.num_classes, device, whitening_images(config, data, subset))
    optimizer = new_optimizer(model, config)
    step = config.start_step()
    if config.init_from:
        parent = torch.load(_parent_checkpoint(store, *config.parent()), map_location=device)
        model.load_state_dict(parent["model"])
        optimizer.load_state_dict(parent["optimizer"])
    tracker = ForgettingTracker(n_train, device)
    history: dict[str, list] = {"test_acc": [], "train_acc_running": [], "loss_running": []}

    scratch = store.scratch("train", config.key_dict())
    resume_path = scratch / "resume.pt"
    current = numerics()
    earlier_seconds, resumed_at = 0.0, []
    if resume_path.exists():
        state = torch.load(resume_path, map_location=device)
        # states saved before 2026-11-29 lack these; such a state is resumed as before
        saved = {k: state.get(k, v) for k, v in current.items()}
        if saved != current:  # the stored run must have one thread count and instruction set, as its provenance says
            warnings.warn(f"run {config_key('train', config.key_dict())}: not resuming its saved state, made with "
                          f"{saved}, under {current}; training from the start", stacklevel=2)
        else:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            tracker.load_state_dict(state["tracker"])
            history, step = state["history"], state["step"]
            earlier_seconds, resumed_at = state.get("wall_s", 0.0), [*state.get("resumed_at", []), step]
    first_step = step

    fwd = torch.compile(model) if compile_model else model
    layout = memory_format(model)
    loss_sum = torch.zeros((), device=device)
    correct_sum = torch.zeros((), device=device, dtype=torch.long)
    seen, perm_epoch, perm = 0, -1, positions
    loop_start, eval_seconds = time.perf_counter(), 0.0
    aug_gen = torch.Generator(device=device)
    model.train()
    while step < config.steps:
        if step in config.save_steps:
            atomic_write(checkpoint_path(store, config, step), partial(torch.save, _state(model, optimizer)))
        epoch, batch_pos = divmod(step, steps_per_epoch)
        if epoch != perm_epoch:
            order = torch.randperm(len(positions), generator=torch.Generator().manual_seed(_mix(config.seed, epoch)))
            perm, perm_epoch = positions[order.to(device)], epoch
        idx = perm[batch_pos * config.batch_size : (batch_pos + 1) * config.batch_size]
        images, labels = data.train_images[idx], data.train_labels[idx]
        if config.augment:
            aug_gen.manual_seed(_mix(config.seed, step, 1))
            images = augment(images, aug_gen)
        x = data.normalize(images).contiguous(memory_format=layout)
        set_lr(optimizer, config, step)
        with autocast(device):
            logits = fwd(x)
            loss = F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            correct = logits.argmax(1) == labels
            tracker.update(idx, correct)
            loss_sum += loss.detach().float()
            correct_sum += correct.sum()
            seen += len(labels)
        step += 1
        if step % config.eval_every == 0 or step == config.steps:
            mean_loss = loss_sum.item() / max(seen // config.batch_size, 1)
            if not math.isfinite(mean_loss):
                resume_path.unlink(missing_ok=True)  # resuming would only diverge again
                raise NonFiniteLossError(
                    f"training loss became {mean_loss} before step {step} (model {config.model}, lr {config.lr}): "
                    f"lower the learning rate or check the data; nothing was stored."
                )
            history["loss_running"].append([step, mean_loss])
            history["train_acc_running"].append([step, correct_sum.item() / max(seen, 1)])
            eval_start = time.perf_counter()
            history["test_acc"].append([step, accuracy(model, data.test_images, data.test_labels, data)])
            eval_seconds += time.perf_counter() - eval_start
            loss_sum.zero_(), correct_sum.zero_()
            seen = 0
            if step < config.steps:
                atomic_write(resume_path, partial(torch.save, {
                    **_state(model, optimizer), "tracker": tracker.state_dict(), "history": history, "step": step,
                    "wall_s": earlier_seconds + time.perf_counter() - start_time, "resumed_at": resumed_at,
                    **current}))
                if on_eval is not None:
                    on_eval(step)
    train_seconds = time.perf_counter() - loop_start - eval_seconds
    if config.steps in config.save_steps:
        atomic_write(checkpoint_path(store, config, config.steps), partial(torch.save, _state(model, optimizer)))

    train_images, train_labels = data.train_images[positions], data.train_labels[positions]
    metrics = {
        "final_test_acc": history["test_acc"][-1][1],
        "final_train_acc": accuracy(model, train_images, train_labels, data),
        "train_examples": len(positions),
        "epochs": config.steps / steps_per_epoch,
        # training throughput of this session's steps (evaluations and checkpoints excluded)
        "images_per_s": (config.steps - first_step) * config.batch_size / max(train_seconds, 1e-9),
        # when resumed at the steps in `resumed_at`: earlier sessions' time up to their last saved state, and this one's
        "wall_s": earlier_seconds + time.perf_counter() - start_time,
        "resumed_at": resumed_at,
        "memory_format": str(layout).removeprefix("torch."),
        **history,
    }
    resume_path.unlink(missing_ok=True)
    return Result(metrics, {
        "forget_counts": tracker.forgets.cpu().numpy(),
        "ever_correct": tracker.learned.cpu().numpy(),
    }, earlier_seconds)


def _state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict()}


def _parent_checkpoint(store: RunStore, key: str, step: int):
    path = checkpoint_path(store, key, step)
    if not path.exists():
        raise FileNotFoundError(f"parent checkpoint {path} is missing: run the parent with save_steps including {step}")
    return path


def child_config(parent: TrainConfig, step: int, seed: int, subset: Tensor | None = None) -> TrainConfig:
    """A run that starts from `parent`'s checkpoint at `step` with its own data order (LMC children)."""
    return replace(
        parent, seed=seed, save_steps=(parent.steps,), subset="full" if subset is None else array_digest(subset),
        init_from=f"{config_key('train', parent.key_dict())}@{step}",
    )


def subset_config(config: TrainConfig, subset: Tensor) -> TrainConfig:
    """`config` trained on `subset` (same steps and schedule, as in the paper)."""
    return replace(config, subset=array_digest(subset))
