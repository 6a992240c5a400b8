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
    monkeypatch.setenv("DATADIET_RESULTS", str(folder))
    return folder


@pytest.fixture(scope="session")
def cifar10():
    from analysis.data import load_dataset

    return load_dataset("cifar10")
