"""Calibrate the cpu profile: full-data train/test accuracy and wall time of candidate miniatures.

The criterion is fixed before any pruning result is seen: the highest full-data train accuracy
(the paper's networks fit their training set) for at most ~4 minutes per run on a 2-core CPU,
so that the whole book fits in 8 hours. Prints one line per candidate.
"""

import argparse
import time

from analysis.store import RunStore
from analysis.train import DataSpec, TrainConfig, run_training

CANDIDATES = {  # name: (width, examples per class, steps)
    "w16-500pc-750": (16, 500, 750),
    "w8-500pc-1500": (8, 500, 1500),
    "w8-1000pc-1500": (8, 1000, 1500),
    "w8-250pc-1500": (8, 250, 1500),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES))
    args = parser.parse_args()
    store = RunStore("calibration")
    for name in args.only:
        width, per_class, steps = CANDIDATES[name]
        config = TrainConfig(
            data=DataSpec("cifar10", train_per_class=per_class), model="resnet18", width=width,
            steps=steps, eval_every=steps // 4,
        )
        start = time.perf_counter()
        m = run_training(config, store).metrics
        print(f"{name}: train {m['final_train_acc']:.4f} test {m['final_test_acc']:.4f} "
              f"epochs {m['epochs']:.1f} wall {m['provenance']['wall_time_s']:.0f}s "
              f"(this call {time.perf_counter() - start:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
