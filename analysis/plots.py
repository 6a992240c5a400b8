"""Every figure of the book, in one visual style (seaborn), captioned with its profile and scale."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.profiles import Profile

METHOD_COLORS = {
    "el2n": "#1f77b4", "grand": "#ff7f0e", "grand_init": "#d62728", "forgetting": "#2ca02c",
    "input_norm": "#9467bd", "random": "#7f7f7f", "full": "#000000", "easy": "#17becf", "hard": "#1f77b4",
    "ccs": "#bcbd22",
}


def use_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "legend.frameon": False})


def scale(profile: Profile) -> str:
    """One line that says which profile and scale a figure comes from."""
    train = (f"{profile.num_train:,} train images ({profile.train_per_class}/class)" if profile.train_per_class
             else f"all {profile.num_train:,} train images")
    return (f"profile {profile.name}: {profile.dataset.upper()}, {train}, {profile.model} width {profile.width}\n"
            f"{profile.steps:,} steps ({profile.epochs:g} epochs), {profile.score_seeds} score seeds, "
            f"{profile.retrain_seeds} retraining seeds (secondary sweeps: {profile.secondary_seeds})")


def figure(
    ncols: int = 1, nrows: int = 1, width: float = 5.2, height: float = 3.8, **kwargs
) -> tuple[Figure, np.ndarray]:
    use_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kwargs)
    return fig, axes.ravel()


def finish(fig: Figure, profile: Profile, title: str, here: str | None = None) -> Figure:
    """Title on top, the profile and scale underneath every figure; `here` says where this figure departs from it."""
    fig.suptitle(title, fontsize=12)
    caption = scale(profile) + (f"\nthis figure: {here}" if here else "")
    fig.text(0.5, -0.02, caption, ha="center", va="top", fontsize=8, color="#444444")
    fig.tight_layout()
    return fig


def band(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str | None = None, label: str | None = None,
         colors: dict | None = None, marker: str = "o") -> None:
    """Mean of `y` over seeds against `x`, with a 16th-84th percentile band (the paper's convention)."""
    groups = df.groupby(hue) if hue else [(label, df)]
    for name, g in groups:
        stats = g.groupby(x)[y].agg(mean="mean", lo=lambda v: np.percentile(v, 16), hi=lambda v: np.percentile(v, 84))
        color = (colors or METHOD_COLORS).get(name)
        ax.plot(stats.index, stats["mean"], marker=marker, ms=4, label=name, color=color)
        ax.fill_between(stats.index, stats["lo"], stats["hi"], alpha=0.2, color=color, linewidth=0)


def reference(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str, label: str) -> None:
    """Published values as hollow markers joined by dashed lines, in each method's colour."""
    for name, g in df.groupby(hue):
        color = METHOD_COLORS.get(name)
        ax.plot(g[x], g[y], ls="--", marker="o", mfc="white", ms=5, color=color, label=f"{name} ({label})")


def hline(ax: Axes, values, label: str, color: str = "#000000") -> None:
    """A horizontal line at the mean of `values` with a band from their 16th to 84th percentile."""
    values = np.asarray(values, dtype=float)
    ax.axhline(values.mean(), color=color, ls=":", lw=1.5, label=label)
    if len(values) > 1:
        ax.axhspan(np.percentile(values, 16), np.percentile(values, 84), color=color, alpha=0.08)


def percent_axis(ax: Axes, axis: str = "y") -> None:
    fmt = plt.FuncFormatter(lambda v, _: f"{v:.0%}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def heatmap(ax: Axes, matrix: pd.DataFrame, fmt: str = ".2f", cmap: str = "vlag", center: float | None = 0.0,
            **kwargs) -> None:
    sns.heatmap(matrix, ax=ax, annot=True, fmt=fmt, cmap=cmap, center=center, square=True, cbar=False,
                annot_kws={"fontsize": 7}, **kwargs)
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    ax.tick_params(axis="y", rotation=0, labelsize=8)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")


def image_grid(images: np.ndarray, titles: list[str], ncols: int, row_labels: list[str] | None = None,
               size: float = 1.0) -> Figure:
    """uint8 (N, 3, H, W) images in a grid with a small title each."""
    use_style()
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (img, title) in enumerate(zip(images, titles)):
        ax = axes.ravel()[i]
        ax.imshow(np.transpose(img, (1, 2, 0)), interpolation="nearest")
        ax.set_title(title, fontsize=6, pad=2)
    if row_labels:
        for r, text in enumerate(row_labels):
            axes[r, 0].text(-0.15, 0.5, text, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=7)
    return fig


REGIME_AXES = {"size": ("training-set size (images, before pruning)", "{x:,.0f}", "by data size"),
               "budget_epochs": ("training budget (epochs)", "{x:g}", "by training budget")}


def crossing_panel(ax: Axes, sweep: pd.DataFrame, axis: str, fraction: float, crossing: float | None) -> None:
    """Test accuracy of every selection of `sweep` (`axis`, fraction, selection, seed, test_acc) at `fraction`
    pruned and of the full-data runs (fraction 0) against `axis` on a log scale, with a dotted line at the value
    from which keeping the hardest wins for good (`crossing`; none where it is None)."""
    from matplotlib.ticker import NullFormatter, StrMethodFormatter

    band(ax, sweep[sweep["fraction"] == fraction], axis, "test_acc", hue="selection")
    band(ax, sweep[sweep["selection"] == "full"], axis, "test_acc", label="full", marker="s")
    if crossing is not None:
        ax.axvline(crossing, color="#999999", lw=1, ls=":")
    label, ticks, by = REGIME_AXES[axis]
    ax.set(xscale="log", xlabel=label, ylabel="test accuracy", title=f"{fraction:.0%} pruned, {by}")
    ax.set_xticks(sorted(sweep[axis].unique()))
    ax.xaxis.set_major_formatter(StrMethodFormatter(ticks))
    ax.xaxis.set_minor_formatter(NullFormatter())
    percent_axis(ax)


def regime_panels(sizes: pd.DataFrame, size_crossings: dict[float, float | None], budgets: pd.DataFrame,
                  train: pd.Series, budget_crossings: dict[float, float | None]) -> Figure:
    """The regime page's figure: one panel per fraction pruned of the size sweep `sizes` (the keys of
    `size_crossings`), then one per fraction of the budget sweep `budgets` (the keys of `budget_crossings`),
    each a `crossing_panel`; the budget panels add the full data's train accuracy `train` (mean per budget) on a
    right axis.
    """
    fig, axes = figure(ncols=len(size_crossings) + len(budget_crossings), height=4.6)
    for ax, f in zip(axes, sorted(size_crossings)):
        crossing_panel(ax, sizes, "size", f, size_crossings[f])
        ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    for ax, f in zip(axes[len(size_crossings):], sorted(budget_crossings)):
        crossing_panel(ax, budgets, "budget_epochs", f, budget_crossings[f])
        right = ax.twinx()
        right.plot(train.index, train.values, ls="--", color="#444444", label="full data: train accuracy")
        right.set(ylabel="full-data train accuracy", ylim=(0, 1.02))
        right.grid(False)
        percent_axis(right)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def noisy_clean_histograms(dist: pd.DataFrame, scores: tuple[str, ...] = ("el2n", "grand")) -> Figure:
    """Histograms of noisy and clean examples' scores: one row per score, one column per epoch of `dist`
    (score, epoch, noisy, value)."""
    epochs = sorted(dist["epoch"].unique())
    fig, axes = figure(ncols=len(epochs), nrows=len(scores), width=3.6, height=2.8)
    for row, score in enumerate(scores):
        for col, epoch in enumerate(epochs):
            ax = axes[row * len(epochs) + col]
            d = dist[(dist["score"] == score) & (dist["epoch"] == epoch)]
            for is_noisy, color in ((False, METHOD_COLORS["el2n"]), (True, METHOD_COLORS["grand_init"])):
                ax.hist(d.loc[d["noisy"] == is_noisy, "value"], bins=30, density=True, alpha=0.5, color=color,
                        label="noisy" if is_noisy else "clean")
            ax.set(title=f"{score} at epoch {epoch:g}", xlabel=score, ylabel="density" if col == 0 else None)
    axes[0].legend(fontsize=7)
    return fig


def lines(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str, default_color: str = "#8c564b") -> None:
    """`y` against `x`, one line with markers per `hue` group, in each method's colour (`default_color` for others)."""
    for name, g in df.groupby(hue):
        ax.plot(g[x], g[y], marker="o", ms=4, label=name, color=METHOD_COLORS.get(name, default_color))


LMC_GROUP_COLORS = {"low": METHOD_COLORS["easy"], "high": METHOD_COLORS["hard"], "random": METHOD_COLORS["random"],
                    "full": METHOD_COLORS["full"]}


def barrier_panels(axes, study: pd.DataFrame) -> None:
    """The lmc page's four panels (test and own-train error, BatchNorm recomputed then interpolated): the error
    barrier against the spawn epoch, one band per group, on the first four of `axes`."""
    panels = [(bn_reset, eval_set) for bn_reset in (True, False) for eval_set in ("test", "own train")]
    for ax, (bn_reset, eval_set) in zip(axes, panels):
        d = study[(study["bn_reset"] == bn_reset) & (study["eval_set"] == eval_set)]
        band(ax, d, "spawn_epoch", "barrier", hue="group", colors=LMC_GROUP_COLORS)
        ax.set(xlabel="spawn epoch", ylabel="error barrier",
               title=f"{eval_set} error, BatchNorm {'recomputed' if bn_reset else 'interpolated'}")
        percent_axis(ax)


def ranked_colors(values, palette: str = "viridis") -> dict:
    """A colour of `palette` for each distinct value, in ascending order (e.g. EL2N groups 0 = lowest)."""
    ranked = sorted(pd.unique(np.asarray(values)))
    return dict(zip(ranked, sns.color_palette(palette, len(ranked))))


def epoch_ticks(ax: Axes, epochs) -> None:
    """x ticks at exactly `epochs`, labelled as plain numbers (for symlog axes), in small type."""
    ax.set_xticks(epochs)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(axis="x", labelsize=7)


def gallery(images: np.ndarray, table: pd.DataFrame) -> Figure:
    """A page's image gallery: `images` (uint8 (N, 3, H, W)) in the order of `table`'s rows (columns: class, title),
    one row of the grid per class, labelled with the class."""
    classes = list(pd.unique(table["class"]))
    return image_grid(images, list(table["title"]), len(table) // len(classes), row_labels=[str(c) for c in classes])
