"""Shared fixtures: the real CIFAR-10 from the data root, and a throwaway results folder."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch
from torch import nn

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


@pytest.fixture
def randomise_bn():
    """`randomise_bn(model, seed)`: every BatchNorm gets non-default running statistics and affine parameters, so
    each term of an exactness test matters. Returns the model."""

    def apply(model: nn.Module, seed: int = 0) -> nn.Module:
        gen = torch.Generator().manual_seed(seed)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.data.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
        return model

    return apply


@pytest.fixture(scope="session")
def cifar10():
    from analysis.data import load_dataset

    return load_dataset("cifar10")


@pytest.fixture(scope="module")
def plan_book():
    """benchmarks/plan_book.py as a module (`plan`, `dry_training`)."""
    spec = importlib.util.spec_from_file_location("plan_book", REPO / "benchmarks" / "plan_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
