"""Score throughput against training throughput, measured in one run on the same model and batch.

Prints images/s of: a training step loop, exact GraNd (layer-wise per-example norms), a naive
per-example backward loop, and EL2N; and two ratios: GraNd / training (goal >= 0.3) and the cost
of one EL2N pass over the 50,000 training images as a fraction of one training epoch (goal <= 0.25).

    python benchmarks/scores.py [--width 8 --batch-size 128]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from analysis.data import load_dataset
from analysis.models import build_model
from analysis.scores import el2n, grand
from analysis.train import MEMORY_FORMAT, resolve_device


def timed(fn, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--width", type=int, default=None, help="default: 64 on CUDA, 8 on CPU")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=None, help="batches timed (default: 50 CUDA, 6 CPU)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    width = args.width or (64 if device.type == "cuda" else 8)
    batches = args.batches or (50 if device.type == "cuda" else 6)
    data = load_dataset("cifar10", device=device)
    n = args.batch_size * batches
    images = data.normalize(data.train_images[:n]).contiguous(memory_format=MEMORY_FORMAT)
    labels = data.train_labels[:n]
    model = build_model(args.model, 10, width).to(device).to(memory_format=MEMORY_FORMAT)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def train() -> None:
        for i in range(0, n, args.batch_size):
            loss = F.cross_entropy(model(images[i : i + args.batch_size]), labels[i : i + args.batch_size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def naive() -> None:
        params = list(model.parameters())
        for i in range(args.batch_size):
            grads = torch.autograd.grad(F.cross_entropy(model(images[i : i + 1]), labels[i : i + 1]), params)
            torch.sqrt(sum(g.pow(2).sum() for g in grads))

    train()  # warm-up
    train_ips = n / timed(train, device)
    model.eval()
    grand(model, images[: args.batch_size], labels[: args.batch_size], args.batch_size)  # warm-up
    grand_ips = n / timed(lambda: grand(model, images, labels, args.batch_size), device)
    naive_ips = args.batch_size / timed(naive, device)
    all_images = data.normalize(data.train_images).contiguous(memory_format=MEMORY_FORMAT)
    el2n_s = timed(lambda: el2n(model, all_images, data.train_labels), device)
    epoch_s = len(data.train_labels) / train_ips
    print(f"device {device}, {args.model} width {width}, batch {args.batch_size}")
    print(f"training {train_ips:,.0f} img/s | GraNd {grand_ips:,.0f} img/s | naive loop {naive_ips:,.0f} img/s")
    print(f"GraNd / training = {grand_ips / train_ips:.2f} (goal >= 0.3); naive / training = "
          f"{naive_ips / train_ips:.2f}")
    print(f"EL2N over 50,000 images: {el2n_s:.1f} s = {el2n_s / epoch_s:.2f} of a training epoch ({epoch_s:.0f} s)"
          " (goal <= 0.25)")


if __name__ == "__main__":
    main()
