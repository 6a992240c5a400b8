"""The command line writes scores that rank examples exactly as the API does."""

import numpy as np
import pytest
import torch

from analysis import prune
from analysis.cli import main
from analysis.profiles import get_profile
from analysis.score_runs import compute_scores
from analysis.store import RunStore


@pytest.mark.slow
def test_score_and_subset_match_the_api(tmp_path, store):
    out = tmp_path / "scores.csv"
    main(["score", "--profile", "smoke", "--score", "el2n", "--epoch", "0.5", "--seeds", "2", "--out", str(out)])
    mean, per_seed = compute_scores(get_profile("smoke"), store("smoke"), "el2n", 0.5, 2)
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert np.array_equal(table[:, 1], mean.numpy().astype(np.float64))
    assert torch.equal(mean, per_seed.mean(0)), "the seed average is the plain mean"
    keep = tmp_path / "keep.npy"
    main(["subset", "--scores", str(out), "--prune", "0.5", "--out", str(keep)])
    assert np.array_equal(np.load(keep), prune.keep_hardest(mean, 0.5).numpy())
    main(["subset", "--scores", str(out), "--prune", "0.5", "--offset", "10", "--out", str(keep)])
    assert np.array_equal(np.load(keep), prune.keep_window(mean, 10, 500).numpy())
    # the csv index column maps positions back to torchvision's order of the full training set
    data, _ = get_profile("smoke").data().load()
    assert np.array_equal(table[:, 0].astype(int), data.source_indices.numpy())


@pytest.mark.slow
def test_scores_are_bitwise_reproducible(tmp_path):
    profile = get_profile("smoke")
    a = compute_scores(profile, RunStore("smoke", tmp_path / "a"), "grand", 0.5, 2)[1]
    b = compute_scores(profile, RunStore("smoke", tmp_path / "b"), "grand", 0.5, 2)[1]
    assert torch.equal(a, b)


def test_bad_options_are_clear(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["score", "--score", "loss2", "--out", "x.csv"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="not found"):
        main(["subset", "--scores", str(tmp_path / "missing.csv"), "--prune", "0.5", "--out", "k.npy"])
    with pytest.raises(SystemExit):
        main(["score", "--profile", "desktop", "--score", "el2n", "--out", "x.csv"])
    with pytest.raises(SystemExit, match="not a checkpointed epoch"):
        main(["score", "--profile", "smoke", "--score", "el2n", "--epoch", "3", "--out", str(tmp_path / "x.csv")])


def test_reproduce_pages_go_to_the_folder_given_and_leave_the_book_alone(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("analysis.reproduce.reproduce", lambda *args, **kwargs: calls.append((args, kwargs)))
    main(["reproduce", "--profile", "smoke", "--pages", str(tmp_path)])
    main(["reproduce", "--profile", "smoke"])
    (args, staged), (_, default) = calls
    assert args == ("smoke",) and staged["out_dir"] == tmp_path and staged["book"] is False
    assert default["out_dir"] is None and default["book"] is True  # book/chapters, then the book
