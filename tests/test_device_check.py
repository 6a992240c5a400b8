"""The prepared GPU check runs as is, here on CPU at smoke scale, and writes what it measured."""

import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_check_runs_at_smoke_scale(tmp_path):
    subprocess.run(["bash", str(REPO / "benchmarks" / "device_check.sh"), str(tmp_path), "--scale", "smoke"],
                   check=True, capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert [n["model"] for n in report["networks"]] == ["resnet18", "airbench"]
    for n in report["networks"]:
        assert n["trainer_images_per_s"] > 0 and n["bare_images_per_s"] > 0 and n["grand_images_per_s"] > 0
        assert n["grand_over_trainer"] == pytest.approx(n["grand_images_per_s"] / n["trainer_images_per_s"])
    full = report["full_run"]
    assert full["profile"] == "smoke" and full["steps"] > 0 and 0.0 <= full["test_acc"] <= 1.0
