import json

import numpy as np
import pytest

from analysis.store import Result, RunStore, array_digest, config_key


def test_cache_hit_and_provenance(tmp_path):
    store = RunStore("unit", tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return Result({"acc": 0.5}, {"scores": np.arange(4.0)})

    first = store.get_or_compute("scores", {"a": 1}, compute)
    second = store.get_or_compute("scores", {"a": 1}, compute)
    assert len(calls) == 1
    assert second.metrics["acc"] == 0.5 and np.array_equal(second.arrays["scores"], np.arange(4.0))
    prov = first.metrics["provenance"]
    assert {"git_commit", "torch", "device", "wall_time_s", "date"} <= prov.keys()
    folder = store.path("scores", {"a": 1})
    assert json.loads((folder / "config.json").read_text()) == {"a": 1}
    store.get_or_compute("scores", {"a": 2}, compute)
    assert len(calls) == 2


def test_failed_compute_leaves_nothing(tmp_path):
    store = RunStore("unit", tmp_path)

    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        store.get_or_compute("train", {"a": 1}, boom)
    assert store.load("train", {"a": 1}) is None
    assert not any(p.is_dir() for p in (tmp_path / "unit").rglob("*") if p.name != "train")


def test_keys_are_stable_and_content_sensitive():
    assert config_key("train", {"b": 1, "a": 2}) == config_key("train", {"a": 2, "b": 1})
    assert config_key("train", {"a": 1}) != config_key("scores", {"a": 1})
    assert array_digest(np.arange(5)) != array_digest(np.arange(1, 6))
