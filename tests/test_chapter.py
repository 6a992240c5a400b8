"""The scale banner every page opens with, its protocol departures and the figure captions: known answers."""

from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import chapter, plots, reference
from analysis.profiles import PAPER, get_profile, protocol_table

SMOKE = get_profile("smoke")


def test_a_compute_time_reads_in_minutes_then_hours():
    assert (chapter.duration(90.0), chapter.duration(7199.0), chapter.duration(96_726.0)) == ("1.5 min", "120.0 min",
                                                                                              "26.9 h")


def test_the_banner_says_how_many_of_the_full_data_seeds_are_stored():
    assert "reaches 30.0% test accuracy (1 of its 2 seeds stored so far)" in chapter.banner(SMOKE, [0.30], {})
    assert "reaches 30.0% test accuracy (one seed)" in chapter.banner(replace(SMOKE, score_seeds=1), [0.30], {})


def test_banner_states_the_scale_our_full_data_accuracy_and_the_published_ones():
    text = chapter.banner(SMOKE, [0.30, 0.32], {"kirsch_pytorch": 93.97})
    assert text == (
        "Profile smoke: 1,000 CIFAR-10 training images (100 per class), ResNet-18 width 4, "
        "75 steps (5 epochs). Our full-data network reaches 31.0% test accuracy (mean of 2 seeds). "
        "Published full-data test accuracy on CIFAR-10: Kirsch's PyTorch reproduction (hlb-CIFAR10 network, "
        "12.6 epochs), 93.97%; the paper (ResNet-18, 200 epochs) draws its own in a figure only.")


def test_banner_without_stored_full_data_says_so():
    text = chapter.banner(SMOKE, [], {})
    assert "Its full-data runs are not stored yet" in text
    assert "Published full-data test accuracy on CIFAR-10: the paper" in text


def test_the_verdicts_open_with_the_scale_they_were_judged_at():
    assert chapter.judged_at(SMOKE, [0.30, 0.32]) == (
        "Judged at profile smoke (1,000 training images; full-data test accuracy 31.0%)")
    assert chapter.judged_at(get_profile("laptop"), []) == "Judged at profile laptop (50,000 training images)"


def test_a_page_shows_only_the_settings_where_its_profile_departs_from_the_paper():
    scarce = get_profile("scarce")  # the paper's test set, batch size and recipe but PyTorch's initialisation
    differing = [row for row in protocol_table(scarce) if row[1] != row[2]]
    assert [setting for setting, _, _ in differing] == [
        "dataset", "network", "training budget", "score epoch", "score initialisations", "retraining seeds",
        "fractions pruned", "initialisation"]
    table = chapter.departures(scarce, "pruning_curves")
    assert list(table.columns) == ["setting", "paper", "this page (scarce)"]
    assert list(table.itertuples(index=False, name=None)) == differing
    # the fractions pruned are the pruning-curves page's own setting: no other page shows them
    assert chapter.PAGE_ROWS == {"fractions pruned": "pruning_curves"}
    assert list(chapter.departures(scarce, "seeds").itertuples(index=False, name=None)) == [
        row for row in differing if row[0] != "fractions pruned"]
    assert list(chapter.departures(SMOKE, "seeds")["setting"]) == [  # smoke keeps the paper's recipe
        "dataset", "test examples", "network", "batch size", "training budget", "score epoch",
        "score initialisations", "retraining seeds", "initialisation"]
    assert chapter.departures(PAPER, "pruning_curves").empty


def test_each_page_names_the_command_that_re_runs_it_and_the_cli_accepts_it():
    from analysis.cli import build_parser

    command = chapter.rerun("pruning_curves", SMOKE)
    assert command == "Re-run this page alone: python -m analysis reproduce --only pruning_curves --profile smoke"
    args = build_parser().parse_args(command.split("python -m analysis ")[1].split())
    assert (args.only, args.profile) == (["pruning_curves"], "smoke")


def test_a_page_writes_its_tables_for_download_and_says_where(tmp_path):
    from pathlib import Path

    from analysis.store import REPO_ROOT

    tables = {"curves": pd.DataFrame({"fraction": [0.3, 0.5], "test_acc": [0.9, 0.8]}), "note": "not a table"}
    [path] = chapter.write_tables(tables, tmp_path / "smoke" / "tables" / "pruning_curves")
    assert path.name == "curves.csv" and pd.read_csv(path, index_col=0).equals(tables["curves"])
    assert chapter.downloads([path]) == "Its tables as CSV: <results root>/smoke/tables/pruning_curves/ (curves.csv)."
    inside = REPO_ROOT / "results" / "smoke" / "tables" / "pruning_curves" / "curves.csv"
    assert chapter.downloads([inside]) == (
        f"Its tables as CSV: {Path('results/smoke/tables/pruning_curves')}/ (curves.csv).")
    assert chapter.downloads([]) == "This page has no tables to download."
    per_example = {"scores": pd.DataFrame({"el2n": range(chapter.GZIP_ROWS + 1)})}
    [gz] = chapter.write_tables(per_example, tmp_path)
    assert gz.name == "scores.csv.gz" and pd.read_csv(gz, index_col=0).equals(per_example["scores"])
    assert gz.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    first = gz.read_bytes()
    chapter.write_tables(per_example, tmp_path)
    assert gz.read_bytes() == first  # no timestamp: the same table, the same file


def test_published_full_data_accuracy_is_read_from_the_reference_file():
    assert reference.full_data_accuracy() == {"kirsch_pytorch": pytest.approx(93.97)}


def test_kirschs_el2n_gap_is_his_published_difference_with_its_side_and_the_phrase_the_chapters_end_on():
    half, sixty = reference.kirsch_el2n_gap(0.5), reference.kirsch_el2n_gap(0.6)
    assert half.points == pytest.approx(92.56 - 91.39) and half.side == 1
    assert sixty.points == pytest.approx(89.75 - 90.09) and sixty.side == -1
    assert half.why == "why his own runs put EL2N +1.2 points from random pruning"
    assert reference.kirsch_el2n_gap(0.9) is None


def test_banner_reads_the_stored_full_data_runs_and_trains_none(store):
    assert chapter.stored_full_data(SMOKE, store(SMOKE.name)) == []


def test_seeds_per_point_counts_each_points_own_seeds():
    df = pd.DataFrame({"method": ["a", "a", "a", "b", "b"], "seed": [0, 1, 2, 0, 0]})
    assert plots.seeds_per_point(df[df["method"] == "a"], "method") == "3 retraining seeds per point"
    assert plots.seeds_per_point(df, "method") == "1 to 3 retraining seeds per point"
    assert plots.seeds_per_point(df[df["method"] == "b"], "method", what="seed") == "1 seed per point"
    assert plots.seeds_per_point(df, "method", what="pair of children", plural="pairs of children") == (
        "1 to 3 pairs of children per point")


@pytest.mark.parametrize(("epochs", "scale"), [(range(11), "linear"), ((0, 1, 2, 4, 8, 16, 50, 100, 200), "symlog")])
def test_epoch_ticks_label_every_epoch_on_a_linear_axis_when_evenly_spaced_else_symlog(epochs, scale):
    fig, ax = plt.subplots()
    plots.epoch_ticks(ax, list(epochs))
    fig.canvas.draw()
    assert ax.get_xscale() == scale
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{e:g}" for e in epochs]
    plt.close(fig)


def test_caption_is_the_title_the_scale_the_seeds_and_the_departure_one_sentence_each():
    assert plots.caption(SMOKE, "test accuracy after pruning", "2 retraining seeds per point", "width 8 here") == (
        "Test accuracy after pruning. Profile smoke: 1,000 CIFAR-10 training images (100 per class), ResNet-18 "
        "width 4, 75 steps (5 epochs). 2 retraining seeds per point. Width 8 here.")
    assert plots.caption(SMOKE, "Scores.").startswith("Scores. Profile smoke:")


def test_figures_fit_the_column_two_panels_to_a_row():
    fig, axes = plots.figure(ncols=3)
    assert len(axes) == 3 and len(fig.axes) == 3 and fig.get_figwidth() <= plots.COLUMN
    assert fig.dpi >= 200


def test_crossing_note_names_the_dotted_lines_only_where_they_are_drawn():
    assert plots.crossing_note({0.5: None}, "training-set size") == (
        "no dotted line: keeping the hardest does not win for good at any training-set size shown")
    assert plots.crossing_note({0.7: None, 0.5: 2500.0}, "budget") == (
        "dotted line: the budget from which keeping the hardest wins for good (2,500 at 50% pruned)")


def test_figures_and_tables_name_scores_as_the_prose_does():
    assert [plots.method_name(k) for k in ("el2n", "grand_init", "input_norm", "grand@0", "forgetting", 3)] == [
        "EL2N", "GraNd at init", "input norm", "GraNd@0", "forgetting", "3"]
    _fig, (ax,) = plots.figure()
    plots.band(ax, pd.DataFrame({"m": ["grand_init"] * 2, "x": [0, 1], "y": [0.5, 0.6]}), "x", "y", hue="m")
    plots.heatmap(ax, pd.DataFrame([[1.0]], index=["el2n@1"], columns=["input_norm"]))
    plots.band(ax, pd.DataFrame({"x": [0, 1], "y": [0.5, 0.6]}), "x", "y")  # unlabelled: kept out of the legend
    assert next(line.get_label() for line in ax.get_lines()) == "GraNd at init"
    assert [h.get_label() for h in ax.get_legend_handles_labels()[0]] == ["GraNd at init"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["EL2N@1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["input norm"]


def test_a_point_marks_each_groups_mean_at_one_x_with_its_percentile_bar():
    _fig, (ax,) = plots.figure()
    df = pd.DataFrame({"label": ["a"] * 3 + ["b"], "y": [0.80, 0.82, 0.90, 0.5]})
    plots.points(ax, df, 0.5, "y", "label", "#1f77b4")
    (a_mean, a_bar), (b_mean, _) = ((c.lines[0].get_ydata()[0], c.lines[2][0].get_segments()[0])
                                    for c in ax.containers)
    assert a_mean == pytest.approx(0.84) and b_mean == pytest.approx(0.5)
    # numpy's linear percentiles of (0.80, 0.82, 0.90): 16th 0.8064, 84th 0.8744
    assert a_bar[:, 1] == pytest.approx([0.8064, 0.8744]) and a_bar[0, 0] == 0.5
    assert ax.get_legend_handles_labels()[1] == ["a", "b"]


def test_percent_ticks_keep_the_decimals_their_spacing_needs():
    fig, (ax,) = plots.figure()
    ax.plot([0, 1], [0.70, 0.88])
    ax.set_yticks([0.70, 0.725, 0.75])
    plots.percent_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["70%", "72.5%", "75%"]
