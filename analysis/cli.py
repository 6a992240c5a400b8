"""Command line: `python -m analysis {score,subset,reproduce,audit} --help`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from analysis.data import DATA_ROOT_ENV, DatasetError
from analysis.profiles import DEFAULT_PROFILE, PROFILE_ENV, PROFILES
from analysis.score_runs import SCORES
from analysis.store import RunStore, atomic_write, results_root
from analysis.sweep import EXECUTOR_ENV, SLURM_SETTINGS, SweepError
from analysis.train import NonFiniteLossError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=sorted(PROFILES), default=os.environ.get(PROFILE_ENV, DEFAULT_PROFILE),
                        help=f"scale profile (default: ${PROFILE_ENV}, else {DEFAULT_PROFILE})")
    parser.add_argument("--data-root", help=f"folder holding the datasets (default: ${DATA_ROOT_ENV}, "
                                            "else ~/.cache/datadiet/data)")
    parser.add_argument("--executor", choices=["local", "processes", "submitit"],
                        default=os.environ.get(EXECUTOR_ENV) or "local",
                        help=f"where training runs execute (default: ${EXECUTOR_ENV}, else local)")
    cluster = parser.add_argument_group("cluster settings of --executor submitit (Slurm)")
    for flag, (_, env, kind, text) in SLURM_SETTINGS.items():
        cluster.add_argument(f"--slurm-{flag}", type=kind, metavar=flag.split("-")[-1].upper(),
                             help=f"{text}; or ${env}")


def _write_scores(path: Path, scores: np.ndarray, source_indices: np.ndarray) -> None:
    if path.suffix == ".npy":
        atomic_write(path, lambda tmp: np.save(tmp, scores, allow_pickle=False))
    elif path.suffix == ".csv":
        rows = "".join(f"{i},{s!r}\n" for i, s in zip(source_indices.tolist(), scores.tolist()))
        atomic_write(path, lambda tmp: tmp.write_text("index,score\n" + rows))
    else:
        raise SystemExit(f"error: --out must end in .csv or .npy, got {path}")


def read_scores(path: Path) -> np.ndarray:
    """Scores from a file written by `score` (.npy, or .csv with columns index,score)."""
    if not path.exists():
        raise SystemExit(f"error: scores file {path} not found; write one with `python -m analysis score`")
    if path.suffix == ".npy":
        return np.load(path)
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, ndmin=1)


def cmd_score(args: argparse.Namespace) -> None:
    from analysis.profiles import Variant, get_profile
    from analysis.score_runs import compute_scores
    from analysis.sweep import make_executor

    profile = get_profile(args.profile).on(args.dataset)
    epoch = profile.score_epoch if args.epoch is None else args.epoch
    store = RunStore(profile.name, results_root())
    mean, _ = compute_scores(profile, store, args.score, epoch, args.seeds, variant=Variant(model=args.model),
                             squared=args.squared, executor=make_executor(args.executor))
    data, _ = profile.data().load()
    _write_scores(Path(args.out), mean.numpy(), data.source_indices.numpy())
    print(f"wrote {len(mean)} {args.score} scores (epoch {epoch:g}, {args.seeds or profile.score_seeds} seeds, "
          f"profile {profile.name}) to {args.out}")


def cmd_subset(args: argparse.Namespace) -> None:
    import torch

    from analysis import prune

    scores = torch.as_tensor(read_scores(Path(args.scores)))
    if args.offset is None:
        keep = prune.keep_hardest(scores, args.prune)
    else:
        keep = prune.keep_window(scores, args.offset, prune.kept_size(len(scores), args.prune))
    out = atomic_write(Path(args.out), lambda tmp: np.save(tmp, keep.numpy(), allow_pickle=False))
    print(f"kept {len(keep)} of {len(scores)} examples -> {out} (positions in the scores file's order)")


def cmd_reproduce(args: argparse.Namespace) -> None:
    from analysis.reproduce import reproduce
    from analysis.sweep import make_executor

    if args.executor == "submitit":
        make_executor("submitit")  # bad cluster settings stop here, in one line, before any notebook runs
    reproduce(args.profile, only=args.only, force=args.force, executor=args.executor,
              out_dir=Path(args.pages) if args.pages else None, book=not args.pages)


def cmd_audit(args: argparse.Namespace) -> None:
    from analysis import audit
    from analysis.profiles import get_profile

    profile = get_profile(args.profile)
    store = RunStore(profile.name, results_root())
    table = audit.audit(profile, store, args.runs, args.seed)
    path = audit.write(table, store)
    print(table.to_string(index=False))
    print(f"{int(table['identical'].sum())} of {len(table)} recomputed runs are identical to the stored ones -> {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="per-example scores averaged over initialisations, to .csv or .npy")
    _common(score)
    score.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "cinic10"])
    score.add_argument("--score", required=True, choices=SCORES)
    score.add_argument("--epoch", type=float, help="training epoch at which to score (0: init; default: the "
                                                   "profile's score epoch, 10%% of training)")
    score.add_argument("--seeds", type=int, help="initialisations averaged (default: the profile's)")
    score.add_argument("--model", help="network (default: the profile's for this dataset)")
    score.add_argument("--squared", action="store_true", help="EL2N squared (changes averaged rankings)")
    score.add_argument("--out", required=True, help="output file, .csv (index,score) or .npy")
    score.set_defaults(func=cmd_score)

    subset = sub.add_parser("subset", help="indices to keep from a scores file")
    subset.add_argument("--scores", required=True, help="a file written by `score`")
    subset.add_argument("--prune", type=float, required=True, help="fraction to prune, in [0, 1)")
    subset.add_argument("--offset", type=int, help="skip this many highest scores first (sliding window)")
    subset.add_argument("--out", required=True, help="output .npy of sorted positions to keep")
    subset.set_defaults(func=cmd_subset)

    reproduce = sub.add_parser("reproduce", help="execute the notebooks with papermill and build the book")
    _common(reproduce)
    reproduce.add_argument("--only", nargs="*", help="notebook names to run (default: all)")
    reproduce.add_argument("--force", action="store_true",
                           help="delete the profile's stored results first and recompute everything")
    reproduce.add_argument("--pages", metavar="DIR",
                           help="write the executed pages to DIR and build no book (default: book/chapters, then "
                                "the book): a long sweep in parts leaves the book's pages as they are until it ends")
    reproduce.set_defaults(func=cmd_reproduce)

    audit = sub.add_parser("audit", help="recompute a random sample of stored runs and compare with the stored ones")
    _common(audit)
    audit.add_argument("--runs", type=int, default=3, help="stored full-data runs to recompute (default: 3)")
    audit.add_argument("--seed", type=int, default=0, help="seed of the random sample (default: 0)")
    audit.set_defaults(func=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # The data root and the cluster settings reach the processes this command starts (notebook kernels, pool
    # workers, Slurm jobs) as the environment they inherit: the one place the package writes a variable.
    if getattr(args, "data_root", None):
        os.environ[DATA_ROOT_ENV] = args.data_root
    for flag, (_, env, _, _) in SLURM_SETTINGS.items():
        if (value := getattr(args, f"slurm_{flag.replace('-', '_')}", None)) is not None:
            os.environ[env] = str(value)
    try:
        args.func(args)
    except (DatasetError, NonFiniteLossError, SweepError, ValueError) as err:
        sys.exit(f"error: {err}")
