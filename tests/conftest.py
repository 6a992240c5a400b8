"""Shared fixtures: the real CIFAR-10 from the data root, and a throwaway results folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.data import DATA_ROOT_ENV

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault(DATA_ROOT_ENV, str(REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def results_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test writes its run store under a fresh temporary folder, never into results/."""
    folder = tmp_path_factory.mktemp("results")
    monkeypatch.setenv("DATADIET_RESULTS", str(folder))  # for notebooks' kernels and the CLI
    return folder


@pytest.fixture
def store(results_dir):
    """The run store of a profile under the test's results folder: `store("smoke")`."""
    from analysis.store import RunStore

    return lambda profile: RunStore(profile, results_dir)


@pytest.fixture(scope="session")
def cifar10():
    from analysis.data import load_dataset

    return load_dataset("cifar10")
