"""Trainer throughput against a bare forward+backward+step loop on the same model and batch.

Prints images/s of both, their ratio (goal on CPU: >= 0.95) and the seconds one CIFAR-10 epoch
(50,000 images) takes at the trainer's rate. A benchmark, not a test: numbers depend on the machine.

    python benchmarks/throughput.py [--model resnet18 --width 64 --steps 200] [--compile]
    python benchmarks/throughput.py --profile laptop [--steps 100]   # a profile's own network, batch and recipe
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from analysis.profiles import get_profile
from analysis.store import RunStore
from analysis.train import (
    DataSpec,
    TrainConfig,
    autocast,
    memory_format,
    new_model,
    new_optimizer,
    resolve_device,
    run_training,
    whitening_images,
)


def bare_loop(config: TrainConfig, device: torch.device, steps: int) -> float:
    """images/s of the plainest training loop: one fixed normalised batch, no augmentation or bookkeeping."""
    data, _ = config.data.load(device)
    model = new_model(config, data.num_classes, device, whitening_images(config, data))
    optimizer = new_optimizer(model, config)
    x = torch.randn(config.batch_size, 3, 32, 32, device=device).contiguous(memory_format=memory_format(model))
    y = torch.randint(0, data.num_classes, (config.batch_size,), device=device)

    def step() -> None:
        with autocast(device):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * config.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=None, help="time this profile's full-data training config (its data, "
                        "network, batch and recipe) instead of --model/--width/--batch-size")
    parser.add_argument("--model", default=None, help="default: resnet18")
    parser.add_argument("--width", type=int, default=None, help="default: 64 on CUDA, 8 on CPU")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 128")
    parser.add_argument("--steps", type=int, default=None, help="default: 400 on CUDA, 60 on CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile the trainer's model")
    args = parser.parse_args()
    if args.profile and (args.model or args.width or args.batch_size):
        parser.error("--profile sets the network and batch: drop --model, --width and --batch-size, or --profile")
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    width = args.width or (64 if cuda else 8)
    steps = args.steps or (400 if cuda else 60)
    config = (replace(get_profile(args.profile).train_config(0), steps=steps, eval_every=steps) if args.profile
              else TrainConfig(data=DataSpec("cifar10"), model=args.model or "resnet18", width=width, steps=steps,
                               batch_size=args.batch_size or 128, eval_every=steps))
    config.data.load(device)  # load once, outside both timings
    with tempfile.TemporaryDirectory() as tmp:
        metrics = run_training(config, RunStore("benchmark", Path(tmp)), device=str(device),
                               compile_model=args.compile).metrics
    trainer = metrics["images_per_s"]
    bare = bare_loop(config, device, steps)
    print(f"device: {torch.cuda.get_device_name(0) if cuda else 'cpu'} ({torch.get_num_threads()} threads), "
          f"{config.model} width {config.width}, batch {config.batch_size}, {steps} steps")
    print(f"trainer: {trainer:,.0f} images/s   bare loop: {bare:,.0f} images/s   ratio: {trainer / bare:.3f}")
    print(f"seconds per CIFAR-10 epoch (50,000 images) at the trainer's rate: {50_000 / trainer:.1f}")


if __name__ == "__main__":
    main()
