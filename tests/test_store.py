import json
import subprocess

import numpy as np
import pytest

import analysis.store as store_module
from analysis.store import (
    REPO_ROOT,
    Result,
    RunStore,
    array_digest,
    atomic_write,
    code_state,
    config_key,
    provenance,
)


def test_cache_hit_and_provenance(tmp_path):
    store = RunStore("unit", tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return Result({"acc": 0.5}, {"scores": np.arange(4.0)})

    assert not store.has("scores", {"a": 1})
    first = store.get_or_compute("scores", {"a": 1}, compute)
    assert store.has("scores", {"a": 1}) and not store.has("scores", {"a": 2}) and not store.has("train", {"a": 1})
    second = store.get_or_compute("scores", {"a": 1}, compute)
    assert len(calls) == 1
    assert second.metrics["acc"] == 0.5 and np.array_equal(second.arrays["scores"], np.arange(4.0))
    prov = first.metrics["provenance"]
    assert {"git_commit", "code_modified", "torch", "device", "cpu_capability", "wall_time_s", "date"} <= prov.keys()
    folder = store.path("scores", {"a": 1})
    assert json.loads((folder / "config.json").read_text()) == {"a": 1}
    store.get_or_compute("scores", {"a": 2}, compute)
    assert len(calls) == 2


def test_provenance_says_whether_the_package_code_differs_from_its_commit(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    monkeypatch.setattr(store_module, "REPO_ROOT", tmp_path)
    assert code_state() == {"git_commit": "unknown", "code_modified": None}
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "m.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "c")
    (tmp_path / "notes.txt").write_text("not code")  # untracked files and files outside the package do not count
    assert code_state()["code_modified"] is False
    (tmp_path / "analysis" / "m.py").write_text("x = 2\n")
    assert code_state()["code_modified"] is True
    # a result records the code its process imported, not the checkout as it is when the result is stored
    assert {k: provenance("cpu", 0.0)[k] for k in ("git_commit", "code_modified")} == store_module.LOADED_CODE
    assert store_module.LOADED_CODE["git_commit"] != code_state()["git_commit"]


def test_failed_compute_leaves_nothing(tmp_path):
    store = RunStore("unit", tmp_path)

    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        store.get_or_compute("train", {"a": 1}, boom)
    assert store.load("train", {"a": 1}) is None and not store.has("train", {"a": 1})
    assert not any(p.is_dir() for p in (tmp_path / "unit").rglob("*") if p.name != "train")


def test_forced_recompute_keeps_the_stored_result_until_the_new_one_is_complete(tmp_path):
    store = RunStore("unit", tmp_path)
    store.get_or_compute("train", {"a": 1}, lambda: Result({"acc": 0.5}))

    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        store.get_or_compute("train", {"a": 1}, boom, force=True)
    assert store.load("train", {"a": 1}).metrics["acc"] == 0.5
    assert store.get_or_compute("train", {"a": 1}, lambda: Result({"acc": 0.7}), force=True).metrics["acc"] == 0.7
    assert store.load("train", {"a": 1}).metrics["acc"] == 0.7
    assert [p.name for p in (tmp_path / "unit" / "train").iterdir()] == [config_key("train", {"a": 1})]
    assert [c for c, _ in store.configs("train")] == [{"a": 1}]


def test_dropping_the_dependents_of_a_changed_result(tmp_path):
    store = RunStore("unit", tmp_path)
    parent = config_key("train", {"seed": 0})
    store.save("train", {"seed": 0}, Result({"acc": 0.5}))
    store.save("scores", {"train": parent, "score": "el2n"}, Result({}))
    store.save("train", {"seed": 1, "init_from": f"{parent}@5"}, Result({}))  # a child spawned from it
    store.save("scores", {"train": config_key("train", {"seed": 2}), "score": "el2n"}, Result({}))
    dropped = store.drop_dependents(parent)
    assert len(dropped) == 2
    assert [c for c, _ in store.configs("scores")] == [{"train": config_key("train", {"seed": 2}), "score": "el2n"}]
    assert [c for c, _ in store.configs("train")] == [{"seed": 0}]


def test_keys_are_stable_and_content_sensitive():
    assert config_key("train", {"b": 1, "a": 2}) == config_key("train", {"a": 2, "b": 1})
    assert config_key("train", {"a": 1}) != config_key("scores", {"a": 1})
    assert array_digest(np.arange(5)) != array_digest(np.arange(1, 6))


def test_every_committed_result_is_keyed_by_its_stored_config():
    """A result's folder name is the hash of the config stored in it: nothing committed was re-keyed."""
    configs = sorted((REPO_ROOT / "results").glob("*/*/*/config.json"))
    assert configs, "no committed results found"
    stale = [str(c.parent) for c in configs if config_key(c.parent.parent.name, json.loads(c.read_text()))
             != c.parent.name]
    assert not stale, stale[:5]


@pytest.mark.parametrize("name", ["smoke", "scarce"])
def test_todays_code_finds_the_committed_score_runs(name: str):
    """Score runs, with each page's variants, regenerate the configs of the committed results of the profiles whose
    whole store is committed."""
    from analysis.chapters import transfer
    from analysis.profiles import Variant, get_profile
    from analysis.score_runs import score_run_config

    profile = get_profile(name)
    variants = [Variant(), Variant(label_noise=profile.noise.fraction), Variant(epochs=profile.regime.epochs[0]),
                *transfer.transfer_sources(profile).values()]
    store = RunStore(profile.name, REPO_ROOT / "results")  # the committed results, not the test's folder
    missing = [v for v in variants if store.load("train", score_run_config(profile, 0, v).key_dict()) is None]
    assert not missing


def test_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "sub" / "table.npy"
    atomic_write(path, lambda tmp: np.save(tmp, np.arange(3)))  # np.save keeps a name that ends in .npy
    assert np.array_equal(np.load(path), np.arange(3)) and sorted(p.name for p in path.parent.iterdir()) == [
        "table.npy"]

    def interrupted(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)
    assert np.array_equal(np.load(path), np.arange(3)) and len(list(path.parent.iterdir())) == 1


def test_a_store_counts_the_compute_it_served_and_travels_without_it(tmp_path):
    import pickle
    import time

    store = RunStore("unit", tmp_path)
    store.get_or_compute("train", {"a": 1}, lambda: time.sleep(0.01) or Result({"acc": 0.5}))
    again = RunStore("unit", tmp_path)
    assert again.compute_seconds() == 0  # nothing served yet: no process-wide ledger
    again.get_or_compute("train", {"a": 1}, lambda: Result({"acc": 0.7}))
    assert again.compute_seconds() == store.compute_seconds() > 0
    copy = pickle.loads(pickle.dumps(store))  # as a worker process receives it
    assert copy == store and copy.root == tmp_path / "unit" and copy.used == {}


@pytest.mark.parametrize("profile", sorted(p.name for p in (REPO_ROOT / "results").iterdir() if (p / "train").is_dir()))
def test_every_stored_result_records_what_decides_its_numbers(profile):
    """A stored result is regenerable from its key only if its provenance also says what else decides its numbers:
    the thread count for every result, and the memory layout for a training run (scarce's runs made before the
    layout rule lacked it, and did not retrain to their stored numbers)."""
    lacking = []
    for path in sorted((REPO_ROOT / "results" / profile).glob("*/*/metrics.json")):  # scratch/ is a level deeper
        metrics = json.loads(path.read_text())
        needs = {"threads"} - metrics.get("provenance", {}).keys()
        if path.parts[-3] == "train" and "memory_format" not in metrics:
            needs.add("memory_format")
        if needs:
            lacking.append(f"{path.parts[-3]}/{path.parts[-2]}: {sorted(needs)}")
    assert not lacking, f"recompute these results of {profile!r} with today's code: {lacking}"
