"""Every figure of the book, in one visual style (seaborn), sized for the book's column; captions are text.

A figure carries no title or caption of its own: the page glues it with a caption built by `caption` (what it
shows, its profile and scale, its own seed counts), shown as a MyST figure under it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from analysis.profiles import Profile

METHOD_COLORS = {
    "el2n": "#1f77b4", "grand": "#ff7f0e", "grand_init": "#d62728", "forgetting": "#2ca02c",
    "input_norm": "#9467bd", "random": "#7f7f7f", "full": "#000000", "easy": "#17becf", "hard": "#1f77b4",
    "ccs": "#bcbd22",
}
METHOD_NAMES = {"el2n": "EL2N", "grand": "GraNd", "grand_init": "GraNd at init", "input_norm": "input norm",
                "ccs": "CCS"}

# The book's text column is about 700 px wide; a figure at most COLUMN inches wide is shown at most 1.4x smaller than
# drawn, so 9 pt (the smallest type we draw) still reads as about 9 pt (12 px) on the page.
COLUMN = 7.0  # inches
DPI = 200
SMALLEST = 9  # pt: ticks, legends, annotations
MAX_COLS = 2  # panels per row at column width


def use_style() -> None:
    sns.set_theme(context="paper", style="whitegrid")
    plt.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "savefig.bbox": "tight", "legend.frameon": False,
        "font.size": 10, "axes.labelsize": 10, "axes.titlesize": 10, "xtick.labelsize": SMALLEST,
        "ytick.labelsize": SMALLEST, "legend.fontsize": SMALLEST, "legend.title_fontsize": SMALLEST,
    })


def text_table(styler: Styler) -> Styler:
    """A table of words: wrapped to the column and read from the left (`text-table` in book/_static/tables.css)."""
    return styler.set_table_attributes('class="text-table"')


DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "cinic10": "CINIC-10"}
MODEL_NAMES = {"resnet18": "ResNet-18", "resnet50": "ResNet-50", "airbench": "airbench94-shaped network"}


def model_name(model: str) -> str:
    """A network's name in the prose: 'ResNet-18' (the registry's name where it has no other)."""
    return MODEL_NAMES.get(model, model)


def method_name(key: str) -> str:
    """A score or method as the prose names it: 'grand_init' -> 'GraNd at init', 'el2n@1' -> 'EL2N@1'."""
    method, at, epoch = str(key).partition("@")
    return f"{METHOD_NAMES.get(method, method)}{at}{epoch}"


def describe(profile: Profile) -> str:
    """The profile's scale in words: data, network, training length."""
    data = DATASET_NAMES.get(profile.dataset, profile.dataset)
    train = (f"{profile.num_train:,} {data} training images ({profile.train_per_class} per class)"
             if profile.train_per_class else f"all {profile.num_train:,} {data} training images")
    return (f"profile {profile.name}: {train}, {model_name(profile.model)} width {profile.width}, "
            f"{profile.steps:,} steps ({profile.epochs:g} epochs)")


def seeds_per_point(df: pd.DataFrame, by, seed: str | None = "seed", what: str = "retraining seed",
                    plural: str | None = None) -> str:
    """How many distinct `seed`s (rows where `seed` is None) each point (a group of `df` by `by`) averages, in
    words: "3 retraining seeds per point", or "2 to 4 retraining seeds per point" where points differ (`plural`:
    `what` in the plural, by default `what` + "s")."""
    counts = df.groupby(by)[seed].nunique() if seed else df.groupby(by).size()
    low, high = int(counts.min()), int(counts.max())
    n = f"{low}" if low == high else f"{low} to {high}"
    return f"{n} {what if high == 1 else plural or what + 's'} per point"


def caption(profile: Profile, title: str, seeds: str | None = None, here: str | None = None) -> str:
    """A figure's caption: what it shows (`title`), the profile and scale it comes from, its own seed counts
    (`seeds`, from `seeds_per_point`), and `here`, where this figure departs from the profile; one sentence each."""
    return " ".join(f"{p[0].upper()}{p[1:].rstrip('.')}." for p in (title, describe(profile), seeds, here) if p)


def figure(
    ncols: int = 1, nrows: int = 1, width: float = 5.2, height: float = 3.8, **kwargs
) -> tuple[Figure, np.ndarray]:
    """`ncols` x `nrows` panels of `width` x `height` inches, at most `MAX_COLS` to a row (a single row of more
    wraps) and shrunk to the column's width; returns the figure and its panels in reading order."""
    use_style()
    panels = ncols * nrows
    if nrows == 1 and ncols > MAX_COLS:
        ncols, nrows = MAX_COLS, -(-ncols // MAX_COLS)
    shrink = min(1.0, COLUMN / (width * ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols * shrink, max(height * shrink, 2.6) * nrows),
                             squeeze=False, **kwargs)
    for ax in axes.ravel()[panels:]:
        fig.delaxes(ax)
    return fig, axes.ravel()[:panels]


def finish(fig: Figure) -> Figure:
    """Lay the panels out; the title and caption go under the figure as text (`caption`)."""
    fig.tight_layout()
    return fig


def band(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str | None = None, label: str | None = None,
         colors: dict | None = None, marker: str = "o") -> None:
    """Mean of `y` over seeds against `x`, with a 16th-84th percentile band (the paper's convention)."""
    groups = df.groupby(hue) if hue else [(label, df)]
    for name, g in groups:
        stats = g.groupby(x)[y].agg(mean="mean", lo=lambda v: np.percentile(v, 16), hi=lambda v: np.percentile(v, 84))
        color = (colors or METHOD_COLORS).get(name)
        ax.plot(stats.index, stats["mean"], marker=marker, ms=4, label=None if name is None else method_name(name),
                color=color)
        ax.fill_between(stats.index, stats["lo"], stats["hi"], alpha=0.2, color=color, linewidth=0)


def points(ax: Axes, df: pd.DataFrame, x: float, y: str, hue: str, color: str, marker: str = "D") -> None:
    """The mean of `y` for each `hue` group as one marker at `x`, labelled by the group, with a 16th-84th percentile
    error bar."""
    for name, g in df.groupby(hue):
        mean, (lo, hi) = g[y].mean(), np.percentile(g[y], [16, 84])
        ax.errorbar([x], [mean], yerr=[[mean - lo], [hi - mean]], fmt=marker, ms=6, mfc="white", color=color,
                    capsize=3, label=name)


def reference(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str, label: str) -> None:
    """Published values as hollow markers joined by dashed lines, in each method's colour."""
    for name, g in df.groupby(hue):
        color = METHOD_COLORS.get(name)
        ax.plot(g[x], g[y], ls="--", marker="o", mfc="white", ms=5, color=color, label=f"{method_name(name)} ({label})")


def hline(ax: Axes, values, label: str, color: str = "#000000") -> None:
    """A horizontal line at the mean of `values` with a band from their 16th to 84th percentile."""
    values = np.asarray(values, dtype=float)
    ax.axhline(values.mean(), color=color, ls=":", lw=1.5, label=label)
    if len(values) > 1:
        ax.axhspan(np.percentile(values, 16), np.percentile(values, 84), color=color, alpha=0.08)


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Label an axis of fractions as percentages, with as many decimals as each tick needs (72.5%, not 73%)."""
    fmt = plt.FuncFormatter(lambda v, _: f"{100 * v:.4g}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def heatmap(ax: Axes, matrix: pd.DataFrame, fmt: str = ".2f", cmap: str = "vlag", center: float | None = 0.0,
            **kwargs) -> None:
    """`matrix` with its values written in, rows and columns named as the prose names them (`method_name`)."""
    matrix = matrix.rename(index=method_name, columns=method_name)
    sns.heatmap(matrix, ax=ax, annot=True, fmt=fmt, cmap=cmap, center=center, square=True, cbar=False,
                annot_kws={"fontsize": SMALLEST}, **kwargs)
    ax.tick_params(axis="x", rotation=45, labelsize=SMALLEST)
    ax.tick_params(axis="y", rotation=0, labelsize=SMALLEST)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")


def image_grid(images: np.ndarray, titles: list[str], ncols: int, row_labels: list[str] | None = None,
               size: float | None = None) -> Figure:
    """uint8 (N, 3, H, W) images in a grid with a small title each, `size` inches per image (default: the column's
    width shared by `ncols`)."""
    use_style()
    size = size or COLUMN / ncols
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (img, title) in enumerate(zip(images, titles)):
        ax = axes.ravel()[i]
        ax.imshow(np.transpose(img, (1, 2, 0)), interpolation="nearest")
        ax.set_title(title, fontsize=SMALLEST, pad=2)
    if row_labels:
        for r, text in enumerate(row_labels):
            axes[r, 0].text(-0.15, 0.5, text, transform=axes[r, 0].transAxes, ha="right", va="center",
                            fontsize=SMALLEST)
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


def crossing_note(crossings: dict[float, float | None], what: str) -> str:
    """What the dotted lines of `crossing_panel`s show, for a caption: per fraction pruned (`crossings`, as
    `regime_panels` takes them), where keeping the hardest starts to win for good, or that no line is drawn."""
    drawn = {f: x for f, x in sorted(crossings.items()) if x is not None}
    if not drawn:
        return f"no dotted line: keeping the hardest does not win for good at any {what} shown"
    at = ", ".join(f"{x:,g} at {f:.0%} pruned" for f, x in drawn.items())
    return f"dotted line: the {what} from which keeping the hardest wins for good ({at})"


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
        ax.legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    for ax, f in zip(axes[len(size_crossings):], sorted(budget_crossings)):
        crossing_panel(ax, budgets, "budget_epochs", f, budget_crossings[f])
        right = ax.twinx()
        right.plot(train.index, train.values, ls="--", color="#444444", label="full data: train accuracy")
        right.set(ylabel="full-data train accuracy", ylim=(0, 1.02))
        right.grid(False)
        percent_axis(right)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles=handles, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def noisy_clean_histograms(dist: pd.DataFrame, scores: tuple[str, ...] = ("el2n", "grand")) -> Figure:
    """Histograms of noisy and clean examples' scores: one row per epoch of `dist` (score, epoch, noisy, value), one
    column per score."""
    epochs = sorted(dist["epoch"].unique())
    fig, axes = figure(ncols=len(scores), nrows=len(epochs), width=3.6, height=2.6)
    for row, epoch in enumerate(epochs):
        for col, score in enumerate(scores):
            ax = axes[row * len(scores) + col]
            d = dist[(dist["score"] == score) & (dist["epoch"] == epoch)]
            for is_noisy, color in ((False, METHOD_COLORS["el2n"]), (True, METHOD_COLORS["grand_init"])):
                ax.hist(d.loc[d["noisy"] == is_noisy, "value"], bins=30, density=True, alpha=0.5, color=color,
                        label="noisy" if is_noisy else "clean")
            ax.set(title=f"{method_name(score)} at epoch {epoch:g}", ylabel="density" if col == 0 else None,
                   xlabel=method_name(score) if row == len(epochs) - 1 else None)
    axes[0].legend()
    return fig


def lines(ax: Axes, df: pd.DataFrame, x: str, y: str, hue: str, default_color: str = "#8c564b") -> None:
    """`y` against `x`, one line with markers per `hue` group, in each method's colour (`default_color` for others)."""
    for name, g in df.groupby(hue):
        ax.plot(g[x], g[y], marker="o", ms=4, label=method_name(name), color=METHOD_COLORS.get(name, default_color))


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
    """x ticks at exactly `epochs`, labelled as plain numbers, on an axis that spaces them readably: linear where
    they are evenly spaced (the laptop's 0 to 10), symmetric-log where they spread over orders of magnitude (the
    paper's 0, 1, 2, 4, ..., 200)."""
    steps = np.diff(sorted(epochs))
    ax.set_xscale("linear" if len(steps) and np.allclose(steps, steps[0]) else "symlog")
    ax.set_xticks(epochs)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))


def gallery(images: np.ndarray, table: pd.DataFrame) -> Figure:
    """A page's image gallery: `images` (uint8 (N, 3, H, W)) in the order of `table`'s rows (columns: class, title),
    one row of the grid per class, labelled with the class."""
    classes = list(pd.unique(table["class"]))
    return image_grid(images, list(table["title"]), len(table) // len(classes), row_labels=[str(c) for c in classes])
