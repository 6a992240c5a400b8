"""Calibrate a profile: full-data (and 50%-random) train/test accuracy and wall time of candidate setups.

Each profile's criterion is fixed before any pruning result is seen (see its docstring in
`analysis/profiles.py`, where the measured table is recorded). Runs are cached in
`results/calibration/`; candidates run in a process pool (one single-threaded worker per core).

    python benchmarks/calibrate_profiles.py laptop [--only NAME ...] [--random]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from analysis import prune
from analysis.store import RunStore, results_root
from analysis.sweep import RunTask, process_pool, run_all
from analysis.train import DataSpec, TrainConfig, subset_config

FAST = dict(model="airbench", batch_size=256, lr=0.2, schedule="linear", lr_warmup=0.25, label_smoothing=0.1,
            init="lecun")
# airbench94's initialisation (whitened stem, identity-initialised filters, fixed BatchNorm scales), its 64x rate for
# the BatchNorm shifts and its label smoothing
AIRBENCH_RECIPE = dict(FAST, init="airbench", bias_lr_scale=64.0, label_smoothing=0.2)
STEPS_PER_EPOCH = 50_000 // 256
CANDIDATES: dict[str, dict[str, TrainConfig]] = {
    "scarce": {  # ResNet-18 with the paper's recipe (PyTorch's initialisation at the time)
        name: TrainConfig(data=DataSpec("cifar10", train_per_class=pc), model="resnet18", width=w, steps=s,
                          eval_every=s // 4, init="torch")
        for name, (w, pc, s) in {"w16-500pc-750": (16, 500, 750), "w8-500pc-1500": (8, 500, 1500),
                                 "w8-1000pc-1500": (8, 1000, 1500), "w8-250pc-1500": (8, 250, 1500)}.items()
    },
    "laptop": {  # the airbench94 shape on all of CIFAR-10 with a fast-training recipe, then with airbench94's own
        f"airbench-w{w}-{e}ep{suffix}": TrainConfig(data=DataSpec("cifar10"), width=w, steps=e * STEPS_PER_EPOCH,
                                                    eval_every=e * STEPS_PER_EPOCH // 4, **recipe)
        for suffix, recipe, sizes in (("", FAST, ((16, 18), (24, 10))),
                                      ("-recipe", AIRBENCH_RECIPE, ((16, 16), (24, 10))))
        for w, e in sizes
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", choices=sorted(CANDIDATES))
    parser.add_argument("--only", nargs="*", help="candidate names (default: all of the profile's)")
    parser.add_argument("--random", action="store_true", help="also train each on a random half (same steps)")
    args = parser.parse_args()
    candidates = {k: v for k, v in CANDIDATES[args.profile].items() if not args.only or k in args.only}
    store = RunStore("calibration", results_root())
    tasks = [RunTask(store, c, labels={"name": k, "subset": "full"}) for k, c in candidates.items()]
    if args.random:
        for name, config in candidates.items():
            n = config.data.train_per_class * 10 or 50_000
            half = prune.random_subset(n, prune.kept_size(n, 0.5), seed=1000)
            tasks.append(RunTask(store, subset_config(replace(config, seed=1000), half), half.numpy(),
                                 {"name": name, "subset": "random half"}))
    pool = process_pool()
    try:
        for task, m in zip(tasks, run_all(tasks, pool, desc="calibration")):
            print(f"{task.labels['name']} ({task.labels['subset']}): train {m['final_train_acc']:.4f} "
                  f"test {m['final_test_acc']:.4f} epochs {m['epochs']:.1f} {m['images_per_s']:.0f} images/s "
                  f"wall {m['provenance']['wall_time_s']:.0f}s", flush=True)
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
