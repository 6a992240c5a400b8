"""Sweeps: lists of independent training runs submitted through one `concurrent.futures.Executor`.

Three backends, chosen by one option (`--executor`, or $DATADIET_EXECUTOR):
- `local`: in-process, one run after another (the default);
- `processes`: a process pool with one worker per visible GPU, or per CPU core (each single-threaded);
- `submitit`: one Slurm job per run through submitit (its `local` cluster for testing).
Every backend writes to the same run store, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from analysis.store import RunStore, note_use
from analysis.train import TrainConfig, run_training

EXECUTOR_ENV = "DATADIET_EXECUTOR"


@dataclass(frozen=True)
class RunTask:
    """One training run of a sweep: a config, its subset of the training set, and labels for tables."""

    profile: str
    config: TrainConfig
    subset: np.ndarray | None = None
    labels: dict = field(default_factory=dict, hash=False, compare=False)


def run_task(task: RunTask) -> dict:
    """Run (or load) one task and return its metrics; top-level so every backend can pickle it."""
    subset = None if task.subset is None else torch.as_tensor(task.subset)
    return run_training(task.config, RunStore(task.profile), subset).metrics


class InProcessExecutor(Executor):
    """Runs each submitted call at once, in this process."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # delivered through the future, like any executor
            future.set_exception(err)
        return future


def _init_worker(queue, threads: int) -> None:
    """Process-pool initializer: one GPU of this worker's own, or its share of the CPU cores."""
    gpu = queue.get()
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    else:
        torch.set_num_threads(threads)


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """One worker per visible GPU; without GPUs, `workers` CPU processes (default: one per core) sharing the cores.

    Spawned, so CUDA is safe. On CPU, small networks train faster as one single-threaded process per
    core than as one process using every core: 1.8x for the cpu profile's runs on 2 cores (measured).
    """
    ctx = mp.get_context("spawn")
    gpus = torch.cuda.device_count()
    cores = len(os.sched_getaffinity(0))
    n = workers or gpus or cores
    queue = ctx.Queue()
    for i in range(n):
        queue.put(i % gpus if gpus else None)
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker,
                               initargs=(queue, max(1, cores // n)))


class SubmititExecutor(Executor):
    """A concurrent.futures view of submitit: one job per submitted call."""

    def __init__(self, folder: str = "results/submitit", cluster: str | None = None, gpus: int = 1,
                 timeout_min: int = 24 * 60, partition: str | None = None, cpus: int = 8) -> None:
        import submitit

        self._executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
        params = {"timeout_min": timeout_min, "cpus_per_task": cpus}
        if self._executor.cluster == "slurm":
            params.update(slurm_gpus_per_node=gpus, slurm_partition=partition)
        elif self._executor.cluster == "local":
            params.update(local_gpus_per_node=gpus if torch.cuda.is_available() else 0)
        self._executor.update_parameters(**{k: v for k, v in params.items() if v is not None})
        self._waiters = ThreadPoolExecutor(max_workers=64)

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        job = self._executor.submit(fn, *args, **kwargs)
        return self._waiters.submit(job.result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._waiters.shutdown(wait=wait, cancel_futures=cancel_futures)


def make_executor(kind: str | None = None, **options) -> Executor:
    """'local' | 'processes' | 'submitit' (default: $DATADIET_EXECUTOR, else 'local')."""
    kind = kind or os.environ.get(EXECUTOR_ENV) or "local"
    if kind == "local":
        return InProcessExecutor()
    if kind == "processes":
        return process_pool(options.get("workers"))
    if kind == "submitit":
        return SubmititExecutor(**options)
    raise ValueError(f"Unknown executor {kind!r}: choose 'local', 'processes' or 'submitit'.")


def run_all(tasks: Iterable[RunTask], executor: Executor | None = None, desc: str = "runs") -> list[dict]:
    """Metrics of every task, in task order, with one progress bar and ETA for the sweep."""
    tasks = list(tasks)
    own = executor is None
    executor = executor or make_executor()
    try:
        if isinstance(executor, InProcessExecutor):  # one by one, so the bar moves as runs finish
            results = [run_task(t) for t in tqdm(tasks, desc=desc, leave=False)]
        else:
            futures = {executor.submit(run_task, t): i for i, t in enumerate(tasks)}
            results = [{}] * len(tasks)
            for future in tqdm(as_completed(futures), total=len(tasks), desc=desc, leave=False):
                results[futures[future]] = future.result()
        for task, metrics in zip(tasks, results):  # workers' results count towards this process's compute time
            note_use(RunStore(task.profile).path("train", task.config.key_dict()), metrics)
        return results
    finally:
        if own:
            executor.shutdown()
