"""One prepared check of a machine with a GPU (or of this code path on CPU at smoke scale).

Measures and writes to OUT_DIR/device_check.json:
- trainer and bare-loop images/s and their ratio, for the paper's ResNet-18 (width 64, batch 128) and the
  laptop profile's fast network (airbench94 shape, its width, batch 256);
- exact GraNd images/s on real CIFAR-10 images against the trainer's, on both networks;
- one full-data run of the laptop profile's protocol (its score-run config, seed 0): test and train
  accuracy and wall time.
At `--scale gpu` the whole check takes a few minutes on one modern GPU; `--scale smoke` shrinks every
part so that it runs on a CPU in about a minute (the tests use it).

    bash benchmarks/device_check.sh OUT_DIR [--scale gpu|smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import bare_loop

from analysis.profiles import LAPTOP, PAPER, SMOKE
from analysis.score_runs import score_run_config
from analysis.scores import grand
from analysis.store import RunStore
from analysis.train import DataSpec, TrainConfig, new_model, resolve_device, run_training, whitening_images

SCALES = {  # steps timed per network, GraNd images, the profile of the full run
    "gpu": {"steps": 200, "grand_images": 4_096, "full_run": LAPTOP, "widths": {"resnet18": 64, "airbench": None}},
    "smoke": {"steps": 3, "grand_images": 64, "full_run": SMOKE, "widths": {"resnet18": 4, "airbench": 8}},
}


def networks(scale: dict) -> list[TrainConfig]:
    """The paper's network at the paper's batch and the laptop profile's at its own, sized for `scale`."""
    steps = scale["steps"]
    paper = replace(PAPER.train_config(0), steps=steps, eval_every=steps, width=scale["widths"]["resnet18"])
    fast = replace(LAPTOP.train_config(0), steps=steps, eval_every=steps,
                   width=scale["widths"]["airbench"] or LAPTOP.width)
    return [replace(c, data=DataSpec("cifar10", test_examples=256)) for c in (paper, fast)]


def throughput(config: TrainConfig, device: torch.device, images: int, folder: Path) -> dict:
    """Trainer, bare-loop and GraNd images/s of one network and batch."""
    trainer = run_training(config, RunStore("device_check", folder), device=str(device)).metrics["images_per_s"]
    bare = bare_loop(config, device, config.steps)
    data, _ = config.data.load(device)
    model = new_model(config, data.num_classes, device, whitening_images(config, data))
    x, y = data.normalize(data.train_images[:images]), data.train_labels[:images]
    grand(model, x[: config.batch_size], y[: config.batch_size])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    grand(model, x, y, batch_size=config.batch_size)
    if device.type == "cuda":
        torch.cuda.synchronize()
    grand_rate = images / (time.perf_counter() - start)
    return {"model": config.model, "width": config.width, "batch_size": config.batch_size,
            "trainer_images_per_s": trainer, "bare_images_per_s": bare, "trainer_over_bare": trainer / bare,
            "grand_images_per_s": grand_rate, "grand_over_trainer": grand_rate / trainer}


def full_run(profile, device: torch.device, folder: Path) -> dict:
    """One full-data run of `profile`'s protocol (its seed-0 score-run config, without checkpoints)."""
    config = replace(score_run_config(profile, 0), save_steps=())
    start = time.perf_counter()
    metrics = run_training(config, RunStore(profile.name, folder), device=str(device)).metrics
    return {"profile": profile.name, "model": config.model, "width": config.width, "steps": config.steps,
            "test_acc": metrics["final_test_acc"], "train_acc": metrics["final_train_acc"],
            "wall_s": time.perf_counter() - start, "trainer_images_per_s": metrics["images_per_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for device_check.json")
    parser.add_argument("--scale", choices=sorted(SCALES), default="gpu")
    args = parser.parse_args()
    scale, device = SCALES[args.scale], resolve_device()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"scale": args.scale, "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        report["networks"] = [throughput(c, device, scale["grand_images"], Path(tmp)) for c in networks(scale)]
        report["full_run"] = full_run(scale["full_run"], device, Path(tmp))
    (args.out / "device_check.json").write_text(json.dumps(report, indent=1))
    for n in report["networks"]:
        print(f"{n['model']} w{n['width']} batch {n['batch_size']}: trainer {n['trainer_images_per_s']:,.0f} images/s "
              f"({n['trainer_over_bare']:.2f} of bare), GraNd {n['grand_images_per_s']:,.0f} images/s "
              f"({n['grand_over_trainer']:.2f} of the trainer)")
    r = report["full_run"]
    print(f"full run ({r['profile']}): test {r['test_acc']:.2%}, train {r['train_acc']:.2%}, {r['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
