"""Executors: a sweep split across workers gives exactly the serial results, in the same run store."""

import os
from dataclasses import replace

import pytest
import torch

from analysis.store import RunStore
from analysis.sweep import RunTask, make_executor, run_all
from analysis.train import DataSpec, TrainConfig

BASE = TrainConfig(data=DataSpec("cifar10", train_per_class=20, test_examples=100), model="resnet18", width=4,
                   steps=6, batch_size=32, eval_every=6)
CONFIGS = [replace(BASE, seed=s) for s in range(3)]


def _tasks(root) -> list[RunTask]:
    store = RunStore("sweep", root)
    return [RunTask(store, c) for c in CONFIGS]


def _outcome(metrics: list[dict]) -> list[tuple]:
    return [(m["final_test_acc"], m["final_train_acc"], m["loss_running"][-1][1]) for m in metrics]


def _serial(threads: int, root) -> list[tuple]:
    """The tasks run one by one in this process with `threads` threads (float sums depend on them)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _outcome(run_all(_tasks(root), make_executor("local")))
    finally:
        torch.set_num_threads(before)


def test_process_pool_matches_serial(tmp_path):
    serial = _serial(max(1, len(os.sched_getaffinity(0)) // 2), tmp_path / "serial")  # a worker's share of cores
    tasks = _tasks(tmp_path / "pool")
    with make_executor("processes", workers=2) as pool:
        parallel = run_all(tasks, pool)
    assert _outcome(parallel) == serial
    assert all(t.store.load("train", t.config.key_dict()) is not None for t in tasks)
    assert tasks[0].store.compute_seconds() > 0  # the workers' runs count towards the caller's store


def test_submitit_local_matches_serial(tmp_path):
    pytest.importorskip("submitit")
    serial = _serial(torch.get_num_threads(), tmp_path / "serial")
    executor = make_executor("submitit", folder=str(tmp_path / "jobs"), cluster="local", timeout_min=10, cpus=1)
    try:
        parallel = run_all(_tasks(tmp_path / "submitit"), executor)
    finally:
        executor.shutdown()
    assert _outcome(parallel) == serial


def test_unknown_executor():
    with pytest.raises(ValueError, match="Unknown executor 'mpi'"):
        make_executor("mpi")


def test_cpu_workers_share_the_cores():
    cores = len(os.sched_getaffinity(0))
    with make_executor("processes", workers=2) as pool:
        assert pool.submit(torch.get_num_threads).result() == max(1, cores // 2)
