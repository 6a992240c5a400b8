"""Sweeps on a real Slurm (`bash .ci/slurm-up.sh` starts a one-node cluster): serial results, one job array,
cancel and resume, failed jobs, settings from flags and environment variables, and bad input."""

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from analysis.cli import main
from analysis.profiles import SMOKE
from analysis.store import RunStore
from analysis.sweep import (
    EXECUTOR_ENV,
    SLURM_SETTINGS,
    RunTask,
    SubmititExecutor,
    SweepError,
    make_executor,
    run_all,
    slurm_partitions,
    slurm_settings,
)
from analysis.train import run_training

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sbatch") is None,
                       reason="no Slurm here (sbatch not on PATH): `bash .ci/slurm-up.sh` starts a one-node cluster"),
]

TINY = replace(SMOKE.train_config(0), steps=6, eval_every=3)  # the smoke profile's data and network, a few steps
ENV = {flag: env for flag, (_, env, _, _) in SLURM_SETTINGS.items()}
RESULT_KEYS = ("test_acc", "train_acc_running", "loss_running", "final_test_acc", "final_train_acc")


@pytest.fixture(scope="module")
def partition() -> str:
    """The cluster's default partition; skips where Slurm does not answer."""
    done = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"Slurm does not answer ({done.stderr.strip()}): `bash .ci/slurm-up.sh` starts a one-node cluster")
    return next(p.rstrip("*") for p in done.stdout.split() if p.endswith("*"))


def settings(partition: str, logs: Path) -> dict[str, str]:
    """Cluster settings for one small CPU node, as environment variables: 1 CPU and 1 GB per job, 2 jobs at once."""
    return {ENV["partition"]: partition, ENV["time"]: "10", ENV["gpus"]: "0", ENV["cpus"]: "1", ENV["mem"]: "1",
            ENV["max-running"]: "2", ENV["logs"]: str(logs)}


@contextmanager
def one_thread():
    """This process on one thread, like each 1-CPU job (float sums depend on the number of threads)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def outcome(metrics: dict) -> tuple:
    return tuple(metrics[k] for k in RESULT_KEYS)


@pytest.fixture(scope="module")
def smoke_sweep(partition, tmp_path_factory):
    """Four smoke runs, serially here and as one job array on Slurm with settings from environment variables."""
    root = tmp_path_factory.mktemp("slurm_sweep")
    serial, slurm = RunStore("smoke", root / "serial"), RunStore("smoke", root / "slurm")
    tasks = [RunTask(slurm, replace(TINY, seed=s), labels={"seed": s}) for s in range(4)]
    with pytest.MonkeyPatch.context() as env:
        with one_thread():
            expected = run_all([replace(t, store=serial) for t in tasks], make_executor("local"))
        for name, value in settings(partition, root / "logs").items():
            env.setenv(name, value)
        metrics = run_all(tasks, make_executor("submitit", poll_s=1))
    return SimpleNamespace(tasks=tasks, expected=expected, metrics=metrics, store=slurm,
                           logs=root / "logs", partition=partition)


def test_slurm_sweep_matches_serial(smoke_sweep):
    assert [outcome(m) for m in smoke_sweep.metrics] == [outcome(m) for m in smoke_sweep.expected]
    assert all(smoke_sweep.store.load("train", t.config.key_dict()) for t in smoke_sweep.tasks)


def test_sweep_is_one_job_array_with_the_settings(smoke_sweep):
    [script] = smoke_sweep.logs.glob("*_submission.sh")  # one submission for the whole sweep
    flags = set(script.read_text().split())
    assert {"--array=0-3%2", f"--partition={smoke_sweep.partition}", "--time=10", "--cpus-per-task=1",
            "--mem=1GB"} <= flags
    assert not any(f.startswith("--gpus") for f in flags)


def test_job_logs_land_in_the_logs_folder(smoke_sweep):
    array = next(smoke_sweep.logs.glob("*_submission.sh")).name.split("_")[0]
    for i in range(4):
        assert (smoke_sweep.logs / f"{array}_{i}_0_log.err").exists()
        assert "Job completed successfully" in (smoke_sweep.logs / f"{array}_{i}_0_log.out").read_text()


def test_cancelled_job_resumes_to_the_uninterrupted_result(partition, tmp_path, monkeypatch):
    store = RunStore("smoke", tmp_path / "results")
    task = RunTask(store, replace(TINY, steps=150, eval_every=10), labels={"seed": 0})
    for name, value in settings(partition, tmp_path / "logs").items():
        monkeypatch.setenv(name, value)
    resume = store.scratch("train", task.config.key_dict()) / "resume.pt"
    executor = make_executor("submitit", poll_s=1)
    with one_thread(), ThreadPoolExecutor(2) as threads:  # the uninterrupted run here, while the cluster works
        reference = threads.submit(lambda: run_training(task.config, RunStore("smoke", tmp_path / "reference")).metrics)
        first_sweep = threads.submit(run_all, [task], executor)
        deadline = time.monotonic() + 120
        while not resume.exists():
            assert time.monotonic() < deadline, "the job wrote no resume state within 2 minutes"
            time.sleep(0.1)
        [submitted] = (tmp_path / "logs").glob("*_submitted.pkl")
        subprocess.run(["scancel", submitted.name.split("_")[0]], check=True)
        with pytest.raises(SweepError, match=r"(?s)seed=0.*ended CANCELLED.*CANCELLED AT"):
            first_sweep.result(timeout=120)  # names the run and quotes Slurm's line in the job's stderr
        assert store.load("train", task.config.key_dict()) is None, "no result from a cancelled job"

        saved_step = torch.load(resume)["step"]
        [resumed] = run_all([task], executor)
        assert resumed["resumed_at"] == [saved_step] and 0 < saved_step < task.config.steps
        assert outcome(resumed) == outcome(reference.result())
    assert os.listdir(store.root / "train") == [store.path("train", task.config.key_dict()).name]
    assert np.array_equal(store.load("train", task.config.key_dict()).arrays["forget_counts"],
                          RunStore("smoke", tmp_path / "reference").load("train", task.config.key_dict())
                          .arrays["forget_counts"])
    assert not resume.exists()


def test_failed_job_names_the_run_and_quotes_its_stderr(partition, tmp_path, monkeypatch):
    for name, value in settings(partition, tmp_path / "logs").items():
        monkeypatch.setenv(name, value)
    store = RunStore("smoke", tmp_path / "results")
    good = [RunTask(store, replace(TINY, seed=s), labels={"seed": s}) for s in (1, 2)]
    broken = RunTask(store, replace(TINY, subset="0123456789abcdef"), labels={"seed": 0, "subset": "wrong"})
    with pytest.raises(SweepError) as caught:
        run_all([good[0], broken, good[1]], make_executor("submitit", poll_s=1, max_running=3))
    message = str(caught.value)
    assert message.startswith("1 of 3 runs failed")
    assert f"- {broken.name()}: slurm job" in message and "subset=wrong" in broken.name()
    assert "ended FAILED" in message
    assert "ValueError: config.subset is '0123456789abcdef'" in message  # quoted from the stderr tail
    assert all(store.load("train", t.config.key_dict()) for t in good)


@pytest.fixture
def unset(monkeypatch) -> None:
    """Cluster settings unset, and restored after a command has set them."""
    for name in (*ENV.values(), EXECUTOR_ENV):
        monkeypatch.setenv(name, "")


def test_score_command_runs_its_sweep_on_slurm(partition, tmp_path, monkeypatch, unset):
    for name, value in settings(partition, tmp_path / "logs").items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "el2n.csv"
    main(["score", "--profile", "smoke", "--score", "el2n", "--epoch", "0.5", "--seeds", "2", "--executor", "submitit",
          "--out", str(out)])
    assert np.loadtxt(out, delimiter=",", skiprows=1).shape == (SMOKE.num_train, 2)
    assert len(list((tmp_path / "logs").glob("*_submission.sh"))) == 1  # the two score runs: one job array


def reproduce_command(partition: str, logs: Path) -> list[str]:
    return ["reproduce", "--profile", "paper", "--executor", "submitit", "--slurm-partition", partition,
            "--slurm-time", "10", "--slurm-gpus", "0", "--slurm-cpus", "1", "--slurm-mem", "1",
            "--slurm-max-running", "2", "--slurm-logs", str(logs)]


def test_reproduce_command_hands_the_settings_to_the_notebooks(partition, tmp_path, monkeypatch, unset):
    executors = []  # what each notebook's `chapter.page(NAME, PROFILE, EXECUTOR, RESULTS)` builds, in this environment
    monkeypatch.setattr("analysis.reproduce.reproduce", lambda profile, only, force, executor, **kw: executors.append(
        make_executor(executor)))
    main(reproduce_command(partition, tmp_path / "logs"))
    assert isinstance(executors[0], SubmititExecutor)  # the executor reaches the notebooks as their parameter
    assert slurm_settings() == {"partition": partition, "timeout_min": 10, "gpus": 0, "cpus": 1, "mem_gb": 1.0,
                                "max_running": 2, "folder": str(tmp_path / "logs")}


def test_unknown_partition_is_a_one_line_error(partition, tmp_path, monkeypatch, unset):
    monkeypatch.setattr("analysis.reproduce.reproduce", lambda *a, **k: pytest.fail("a notebook ran"))
    with pytest.raises(SystemExit) as caught:
        main([*reproduce_command(partition, tmp_path / "logs"), "--slurm-partition", "nosuch"])
    assert str(caught.value) == ("error: Unknown Slurm partition 'nosuch': set --slurm-partition / "
                                 f"$DATADIET_SLURM_PARTITION to one of {', '.join(slurm_partitions())}.")


def test_refused_job_is_a_one_line_error(partition, tmp_path, monkeypatch):
    for name, value in settings(partition, tmp_path / "logs").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(ENV["mem"], "100000")  # 100 TB: more than any node has
    with pytest.raises(ValueError, match=r"Slurm refused the jobs \(.+\): change the setting it names .*--slurm-mem") \
            as caught:
        run_all([RunTask(RunStore("smoke", tmp_path / "results"), TINY)], make_executor("submitit"))
    assert "\n" not in str(caught.value)


def test_unreachable_cluster_is_a_one_line_error(tmp_path, monkeypatch, unset):
    conf = tmp_path / "slurm.conf"  # a controller where none listens
    conf.write_text("ClusterName=nowhere\nSlurmctldHost=nowhere(127.0.0.1)\nSlurmctldPort=9\n"
                    "NodeName=nowhere CPUs=1\nPartitionName=none Nodes=ALL\n")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    with pytest.raises(SystemExit) as caught:
        main(["score", "--profile", "smoke", "--score", "el2n", "--executor", "submitit", "--out", "el2n.csv"])
    message = str(caught.value)
    assert message.startswith("error: Slurm is unreachable (") and "\n" not in message
    assert message.endswith("or set --executor / $DATADIET_EXECUTOR to local or processes.")
