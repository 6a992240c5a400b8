"""Sweeps: lists of independent training runs submitted through one `concurrent.futures.Executor`.

Three backends, chosen by one option (`--executor`, or $DATADIET_EXECUTOR):
- `local`: in-process, one run after another (the default);
- `processes`: a process pool with one worker per visible GPU, or per CPU core (each single-threaded);
- `submitit`: Slurm through submitit, each sweep one job array (submitit's `local` cluster for testing).
Every backend writes to the same run store, so an interrupted sweep resumes where it stopped: stored runs
are loaded, not run again, and an unfinished run resumes from its last saved state.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from analysis.store import REPO_ROOT, RunStore, config_key, results_root
from analysis.train import TrainConfig, checkpoints_missing, run_training

EXECUTOR_ENV = "DATADIET_EXECUTOR"
# The submitit executor's cluster settings: flag suffix -> (its argument, environment variable, type, help).
SLURM_SETTINGS = {
    "partition": ("partition", "DATADIET_SLURM_PARTITION", str, "partition (default: the cluster's default)"),
    "time": ("timeout_min", "DATADIET_SLURM_TIME", int, "time limit of each job, minutes (default: 240)"),
    "gpus": ("gpus", "DATADIET_SLURM_GPUS", int, "GPUs per job (default: 1)"),
    "cpus": ("cpus", "DATADIET_SLURM_CPUS", int, "CPUs per job (default: 8)"),
    "mem": ("mem_gb", "DATADIET_SLURM_MEM", float, "memory per job, GB (default: the cluster's default)"),
    "max-running": ("max_running", "DATADIET_SLURM_MAX_RUNNING", int,
                    "jobs of a sweep running at once (default: 256)"),
    "logs": ("folder", "DATADIET_SLURM_LOGS", str, "folder of job logs and submitit's files "
                                                   "(default: <results root>/submitit)"),
}
# Slurm's states of a job that is over (any other state: it is queued or running); killed jobs leave no result.
_KILLED = {"BOOT_FAIL", "CANCELLED", "DEADLINE", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"}
_OVER = _KILLED | {"COMPLETED", "FAILED", "TIMEOUT"}
_GRACE_S = 15  # how long a job's result file may lag behind its end on a shared file system (submitit's wait)


@dataclass(frozen=True)
class RunTask:
    """One training run of a sweep: the store it goes to, a config, its subset of the training set, and labels for
    tables."""

    store: RunStore
    config: TrainConfig
    subset: np.ndarray | None = None
    labels: dict = field(default_factory=dict, hash=False, compare=False)
    checkpoints: bool = False  # the run's checkpoints must be on disk (see `run_training`)

    def name(self) -> str:
        """The run in messages: its labels and its folder in the run store."""
        labels = "".join(f"{k}={v}, " for k, v in self.labels.items())
        return f"run {labels}{self.store.profile}/train/{config_key('train', self.config.key_dict())}"


class SweepError(RuntimeError):
    """Some runs of a sweep failed; every other run finished and is stored."""


def run_task(task: RunTask) -> dict:
    """Run (or load) one task and return its metrics; top-level so every backend can pickle it."""
    subset = None if task.subset is None else torch.as_tensor(task.subset)
    return run_training(task.config, task.store, subset, checkpoints=task.checkpoints).metrics


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
    """Process-pool initializer: one GPU of this worker's own, or its share of the CPU cores.

    Workers ignore SIGINT: a notebook kernel's shutdown interrupts its whole process group, and the pool
    itself stops its workers, so an interrupt would only print a KeyboardInterrupt traceback per worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def slurm_partitions() -> list[str]:
    """The cluster's partitions, or a one-line error where Slurm cannot be reached."""
    if shutil.which("sinfo") is None:
        raise ValueError("No Slurm here (sinfo is not on PATH): run on the cluster's login node, or set --executor "
                         f"/ ${EXECUTOR_ENV} to local or processes.")
    done = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=300)
    if done.returncode:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise ValueError(f"Slurm is unreachable ({reason}): check that its controller runs and $SLURM_CONF, or "
                         f"set --executor / ${EXECUTOR_ENV} to local or processes.")
    return [name.rstrip("*") for name in done.stdout.split()]  # the default one is marked with a *


def _with_job_cpus(call: Callable):
    """`call()` inside a Slurm job, with as many torch threads as the job has CPUs."""
    if cpus := os.environ.get("SLURM_CPUS_PER_TASK"):
        torch.set_num_threads(int(cpus))
    return call()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "    (none written)"
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines()[-lines:])


class SubmititExecutor(Executor):
    """A concurrent.futures view of submitit: one job per call, and one job array per `submit_all`.

    One thread watches every job (`squeue` on Slurm, whose accounting `sacct` may be absent) and settles its
    future: the call's result, or an error that quotes the tail of the job's stderr.
    """

    def __init__(self, folder: str | None = None, cluster: str = "slurm", gpus: int = 1, timeout_min: int = 240,
                 partition: str | None = None, cpus: int = 8, mem_gb: float | None = None, max_running: int = 256,
                 poll_s: float | None = None) -> None:
        import submitit

        if cluster == "slurm":
            names = slurm_partitions()  # a one-line error where Slurm cannot be reached
            if partition is not None and partition not in names:
                raise ValueError(f"Unknown Slurm partition {partition!r}: set --slurm-partition / "
                                 f"${SLURM_SETTINGS['partition'][1]} to one of {', '.join(names)}.")
        self.cluster = cluster
        self._poll_s = poll_s or (10.0 if cluster == "slurm" else 1.0)  # seconds between looks at the jobs (squeue)
        self._executor = submitit.AutoExecutor(folder=folder or results_root() / "submitit", cluster=cluster)
        params = {"name": "datadiet", "timeout_min": timeout_min, "cpus_per_task": cpus,
                  "mem_gb": None if mem_gb is None else float(mem_gb)}
        if cluster == "slurm":  # jobs import this checkout's `analysis`, like the process that submits them
            params.update(gpus_per_node=gpus or None, slurm_partition=partition, slurm_array_parallelism=max_running,
                          slurm_setup=[f"export PYTHONPATH={shlex.quote(str(REPO_ROOT))}${{PYTHONPATH:+:$PYTHONPATH}}"])
        elif cluster == "local":
            params.update(local_gpus_per_node=gpus if torch.cuda.is_available() else 0)
        self._executor.update_parameters(**{k: v for k, v in params.items() if v is not None})
        self._jobs: dict = {}  # submitit job -> its future, until settled
        self._ended: dict[str, float] = {}  # job id -> when it was first seen over without a result
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        return self._submit([functools.partial(fn, *args, **kwargs)])[0]

    def submit_all(self, fn: Callable, items: Iterable) -> list[Future]:
        """`fn(item)` for each item, as one job array."""
        return self._submit([functools.partial(fn, item) for item in items])

    def _submit(self, calls: list[Callable]) -> list[Future]:
        from submitit.core.utils import FailedJobError

        if not calls:
            return []
        try:
            with self._executor.batch():
                jobs = [self._executor.submit(_with_job_cpus, call) for call in calls]
        except FailedJobError as err:  # sbatch refused the jobs
            reason = (str(err).strip().splitlines() or ["no reason given"])[-1]
            raise ValueError(f"Slurm refused the jobs ({reason}): change the setting it names (--slurm-partition, "
                             "--slurm-time, --slurm-gpus, --slurm-cpus, --slurm-mem).") from None
        futures: list[Future] = [Future() for _ in jobs]
        with self._lock:
            self._jobs.update(zip(jobs, futures))
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, daemon=True)
                self._watcher.start()
        return futures

    def _watch(self) -> None:
        while True:
            time.sleep(self._poll_s)
            with self._lock:
                if not self._jobs:
                    self._watcher = None
                    return
                jobs = list(self._jobs.items())
            states = self._states([job for job, _ in jobs])
            if states is None:  # the controller did not answer this time
                continue
            settled = [job for job, future in jobs if self._settle(job, future, states.get(job.job_id))]
            with self._lock:
                for job in settled:
                    del self._jobs[job]

    def _states(self, jobs: list) -> dict[str, str] | None:
        """The state of each job still listed by the cluster (None where it did not answer)."""
        if self.cluster != "slurm":
            return {job.job_id: "RUNNING" for job in jobs if not job.done()}
        ids = ",".join(sorted({job.job_id.split("_")[0] for job in jobs}))
        done = subprocess.run(["squeue", "-h", "-r", "--states=all", "-o", "%i %T", "-j", ids],
                              capture_output=True, text=True)
        if done.returncode and "Invalid job id" not in done.stderr:  # ("Invalid job id": every job left the queue)
            return None
        return dict(line.split()[:2] for line in done.stdout.splitlines())

    def _settle(self, job, future: Future, state: str | None) -> bool:
        """Settle `future` once `job` is over (`state` None: no longer listed); True when settled."""
        over = state is None or state in _OVER
        if job.paths.result_pickle.exists():
            try:
                future.set_result(job.result())
                return True
            except Exception:  # the call raised: report it once the job is over and its stderr complete
                pass
        elif over and state not in _KILLED:  # its result may still be on its way through a shared file system
            over = time.monotonic() - self._ended.setdefault(job.job_id, time.monotonic()) >= _GRACE_S
        if not over:
            return False
        future.set_exception(RuntimeError(f"{self.cluster} job {job.job_id} ended {state or 'and left the queue'}; "
                                          f"the tail of its stderr ({job.paths.stderr}):\n{_tail(job.paths.stderr)}"))
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Wait (if asked) until every submitted job is settled; the jobs themselves run on regardless."""
        watcher = self._watcher
        if wait and watcher is not None:
            watcher.join()


def slurm_settings() -> dict:
    """The submitit executor's arguments set by environment variables (`SLURM_SETTINGS`)."""
    settings = {}
    for arg, env, kind, _ in SLURM_SETTINGS.values():
        if value := os.environ.get(env):
            try:
                settings[arg] = kind(value)
            except ValueError:
                raise ValueError(f"${env} must be {'a number' if kind is float else 'a whole number'}, "
                                 f"got {value!r}.") from None
    return settings


def make_executor(kind: str | None = None, **options) -> Executor:
    """'local' | 'processes' | 'submitit' (default: $DATADIET_EXECUTOR, else 'local').

    The submitit executor's cluster settings default to their environment variables (`SLURM_SETTINGS`).
    """
    kind = kind or os.environ.get(EXECUTOR_ENV) or "local"
    if kind == "local":
        return InProcessExecutor()
    if kind == "processes":
        return process_pool(options.get("workers"))
    if kind == "submitit":
        return SubmititExecutor(**{**slurm_settings(), **options})
    raise ValueError(f"Unknown executor {kind!r}: choose 'local', 'processes' or 'submitit'.")


def _attempt(task: RunTask) -> dict | Exception:
    try:
        return run_task(task)
    except Exception as err:  # reported with the sweep's other failures
        return err


def _outcomes(tasks: list[RunTask], executor: Executor) -> Iterator[tuple[int, dict | Exception]]:
    """(position, metrics or the run's error) of every task, as runs finish; stored runs are loaded, not submitted."""
    if isinstance(executor, InProcessExecutor):  # one by one, so the bar moves as runs finish
        yield from ((i, _attempt(t)) for i, t in enumerate(tasks))
        return
    todo = []
    for i, task in enumerate(tasks):
        stored = task.store.load("train", task.config.key_dict())
        if stored is not None and not (task.checkpoints and checkpoints_missing(task.config, task.store)):
            yield i, stored.metrics
        else:
            todo.append(i)
    submit_all = getattr(executor, "submit_all", None)
    futures = (submit_all(run_task, [tasks[i] for i in todo]) if submit_all
               else [executor.submit(run_task, tasks[i]) for i in todo])
    positions = dict(zip(futures, todo))
    for future in as_completed(futures):
        error = future.exception()
        yield positions[future], future.result() if error is None else error


def run_all(tasks: Iterable[RunTask], executor: Executor | None = None, desc: str = "runs") -> list[dict]:
    """Metrics of every task, in task order, with one progress bar and ETA for the sweep.

    A failed run does not stop the others: once all are over, `SweepError` names every failed run.
    """
    tasks = list(tasks)
    own = executor is None
    executor = executor or InProcessExecutor()
    results: list[dict] = [{}] * len(tasks)
    failed = []
    try:
        for i, outcome in tqdm(_outcomes(tasks, executor), total=len(tasks), desc=desc, leave=False):
            if isinstance(outcome, Exception):
                failed.append((tasks[i], outcome))
            else:
                results[i] = outcome
        if failed:
            raise SweepError("\n".join([
                f"{len(failed)} of {len(tasks)} runs failed; the others are stored, and running the sweep again "
                "runs only what is missing (an interrupted run resumes from its last saved state):",
                *(f"- {task.name()}: {err}" for task, err in failed),
            ])) from failed[0][1]
        for task, metrics in zip(tasks, results):  # workers' results count towards this process's compute time
            task.store.note_use("train", task.config.key_dict(), metrics)
        return results
    finally:
        if own:
            executor.shutdown()
