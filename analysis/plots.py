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
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


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
