"""Score throughput against training throughput, measured in one run on the same model and batch.

Prints images/s of: the trainer's step (forward, backward and SGD step, channels_last), exact GraNd,
per-sample gradient norms by `torch.func` (vmap of grad) and by a naive per-example backward loop,
all on the same batches, interleaved over rounds (medians of per-round ratios); GraNd / training
(goal >= 0.5) and GraNd / vmap (goal >= 1.5); which computation GraNd uses for each layer; the peak
memory of live tensors during one GraNd batch against one training step (goal: GraNd's no higher);
and the cost of one EL2N pass over the 50,000 training images as a fraction of one training epoch
(goal <= 0.25).

    python benchmarks/scores.py [--model resnet18 --width 8 --batch-size 128 --threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap
from torch.profiler import ProfilerActivity, profile

from analysis.data import load_dataset
from analysis.per_example import norm_costs, norm_method, trainable_layers
from analysis.scores import el2n, grand
from analysis.train import TrainConfig, autocast, memory_format, new_model, new_optimizer, resolve_device


def timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def training_step(
    model: nn.Module, device: torch.device
) -> tuple[Callable[[Tensor, Tensor], None], torch.optim.Optimizer]:
    """The trainer's step (`analysis.train`) without its bookkeeping, and its optimizer."""
    optimizer = new_optimizer(model, TrainConfig(lr=0.01))

    def step(x: Tensor, y: Tensor) -> None:
        model.train()
        with autocast(device):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step, optimizer


def vmap_norms(model: nn.Module) -> Callable[[Tensor, Tensor], Tensor]:
    """GraNd by `torch.func`: per-sample gradients of every parameter (vmap of grad), then their norms."""
    buffers = dict(model.named_buffers())

    def loss(params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(functional_call(model, (params, buffers), (x[None],)), y[None])

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))

    def norms(x: Tensor, y: Tensor) -> Tensor:
        model.eval()
        params = {k: v.detach() for k, v in model.named_parameters()}
        grads = per_sample(params, x, y)
        return sum(g.flatten(1).pow(2).sum(1) for g in grads.values()).sqrt()

    return norms


def naive_norms(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """GraNd by one backward pass per example."""
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    out = []
    for i in range(len(x)):
        grads = torch.autograd.grad(F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]), params)
        out.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return torch.stack(out)


def layer_choices(model: nn.Module, x: Tensor) -> list[str]:
    """One line per trainable layer: its shapes and GraNd's computation of its weight-gradient norm."""
    names = {m: n for n, m in model.named_modules()}
    lines: list[str] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        shapes = f"{tuple(inputs[0].shape[1:])} -> {tuple(output.shape[1:])}"
        if isinstance(module, nn.BatchNorm2d):
            lines.append(f"  {names[module]:24s} {shapes:32s} batchnorm rule")
            return
        costs = norm_costs(module, inputs[0].shape, output.shape)
        lines.append(f"  {names[module]:24s} {shapes:32s} {norm_method(module, inputs[0].shape, output.shape):11s} "
                     f"(multiply-adds per example: materialise {costs['materialise']:,}, ghost {costs['ghost']:,})")

    handles = [layer.register_forward_hook(hook) for layer in trainable_layers(model)]
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    return lines


def peak_growth(fn: Callable[[], object], device: torch.device) -> int:
    """Peak growth (bytes) of live tensor memory while `fn` runs: CUDA's allocator statistics, or on the CPU
    the running sum of the allocations and frees that the profiler records (`profile_memory`)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak


def state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Bytes of the tensors kept between batches: weights and buffers; with `optimizer`, also the weight
    gradients and the optimizer's state (momentum)."""
    tensors = [*model.parameters(), *model.buffers()]
    if optimizer is not None:
        tensors += [p.grad for p in model.parameters() if p.grad is not None]
        tensors += [v for state in optimizer.state.values() for v in state.values() if isinstance(v, Tensor)]
    return sum(t.numel() * t.element_size() for t in tensors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--width", type=int, default=None, help="default: 64 on CUDA, 8 on CPU")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=None, help="batches per round (default: 20 CUDA, 4 CPU)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every measurement (the CPU's "
                        "ratios vary from run to run: GraNd / vmap on ResNet-18 width 8 read 1.02 with 2 batches x 3 "
                        "rounds, then 1.56 with 4 x 5 and 1.37 with 4 x 7, on one idle machine, 2026-11-29)")
    parser.add_argument("--naive-examples", type=int, default=16, help="examples per round of the naive loop")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    width = args.width or (64 if device.type == "cuda" else 8)
    batches = args.batches or (20 if device.type == "cuda" else 4)
    data = load_dataset("cifar10", device=device)
    n = args.batch_size * batches
    model = new_model(TrainConfig(model=args.model, width=width), 10, device)
    images = data.normalize(data.train_images[:n]).contiguous(memory_format=memory_format(model))
    labels = data.train_labels[:n]
    (step, optimizer), by_vmap = training_step(model, device), vmap_norms(model)
    split = list(zip(images.split(args.batch_size), labels.split(args.batch_size)))
    runs = {
        "training": (n, lambda: [step(x, y) for x, y in split]),
        "GraNd": (n, lambda: grand(model, images, labels, args.batch_size)),
        "vmap": (n, lambda: [by_vmap(x, y) for x, y in split]),
        "naive loop": (args.naive_examples, lambda: naive_norms(model, images[: args.naive_examples],
                                                                labels[: args.naive_examples])),
    }
    ips: dict[str, list[float]] = {name: [] for name in runs}
    for _, fn in runs.values():  # warm-up
        timed(fn, device)
    for _ in range(args.rounds):
        for name, (count, fn) in runs.items():
            ips[name].append(count / timed(fn, device))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(ips[a], ips[b]))

    print(f"device {device} ({args.threads} threads), {args.model} width {width}, batch {args.batch_size}, "
          f"{batches} batches x {args.rounds} rounds")
    print(" | ".join(f"{name} {statistics.median(v):,.0f} img/s" for name, v in ips.items()))
    print(f"GraNd / training = {ratio('GraNd', 'training'):.2f} (goal >= 0.5); GraNd / vmap = "
          f"{ratio('GraNd', 'vmap'):.2f} (goal >= 1.5); vmap / training = {ratio('vmap', 'training'):.2f}; "
          f"naive / training = {ratio('naive loop', 'training'):.2f}")
    print("GraNd's computation per layer:")
    x, y = images[: args.batch_size], labels[: args.batch_size]
    print("\n".join(layer_choices(model, x)))
    train_state, train_peak = state_bytes(model, optimizer), peak_growth(lambda: step(x, y), device)
    model.zero_grad(set_to_none=True)  # GraNd needs no weight gradients
    grand_state, grand_peak = state_bytes(model), peak_growth(lambda: grand(model, x, y, len(y)), device)
    mib = 2**20
    print(f"peak memory of one batch (live tensors): training step {(train_state + train_peak) / mib:,.1f} MiB = "
          f"{train_state / mib:,.1f} kept (weights, gradients, momentum) + {train_peak / mib:,.1f} during the step; "
          f"GraNd {(grand_state + grand_peak) / mib:,.1f} MiB = {grand_state / mib:,.1f} kept (weights) + "
          f"{grand_peak / mib:,.1f} (ratio {(grand_state + grand_peak) / (train_state + train_peak):.2f}, goal <= 1)")
    all_images = data.normalize(data.train_images).contiguous(memory_format=memory_format(model))
    el2n_s = timed(lambda: el2n(model, all_images, data.train_labels), device)
    epoch_s = len(data.train_labels) / statistics.median(ips["training"])
    print(f"EL2N over 50,000 images: {el2n_s:.1f} s = {el2n_s / epoch_s:.2f} of a training epoch ({epoch_s:.0f} s)"
          " (goal <= 0.25)")


if __name__ == "__main__":
    main()
