"""Do the scores agree? (the paper's Figure 3 and appendix): Spearman correlations between rankings, one
initialisation against the mean of the others, and Kirsch's GraNd-at-initialisation control by network width."""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr
from torch import Tensor

from analysis import prune, reference
from analysis.plots import method_name, model_name
from analysis.profiles import PAPER, TRAIN_SIZES, Profile, Variant
from analysis.retraining import method_scores
from analysis.rules import Verdict
from analysis.score_runs import compute_scores
from analysis.statistics import projected_words, spearman_brown
from analysis.store import RunStore

CLAIMS: tuple[str, ...] = ()
WIDTH_MARGIN = 0.05  # Spearman difference that counts as "rises with width" or "comes within" Kirsch's value
KIRSCH_GAP = 0.2  # a difference from Kirsch's Spearman coefficient that the page names in its prose


def spearman_matrix(vectors: dict[str, Tensor]) -> pd.DataFrame:
    """Spearman rank correlations between named per-example score vectors."""
    names = list(vectors)
    ranks = rankdata(np.stack([vectors[n].numpy() for n in names], axis=1), axis=0)  # +inf ranks last
    return pd.DataFrame(np.corrcoef(ranks, rowvar=False), index=names, columns=names)


def score_agreement(profile: Profile, store: RunStore,
                    executor: Executor | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Figure 3: Spearman matrix of all scores and epochs, each single seed against the mean of the other
    seeds (score, epoch, seed, spearman_to_mean; leave one out, so a seed is never compared with itself), and
    every example's scores (`per_example_table`)."""
    vectors, seeds, single = {}, {}, []
    for score in ("el2n", "grand"):
        for e in profile.score_epochs.epochs:
            mean, per_seed = compute_scores(profile, store, score, e, executor=executor)
            vectors[f"{score}@{e:g}"], seeds[f"{score}@{e:g}"] = mean, per_seed
            n = len(per_seed)
            for s, row in enumerate(per_seed):
                others = (mean * n - row) / (n - 1)
                single.append({"score": score, "epoch": e, "seed": s,
                               "spearman_to_mean": spearmanr(row.numpy(), others.numpy()).statistic})
    vectors["forgetting"] = method_scores(profile, store, "forgetting", executor=executor)
    vectors["input_norm"] = method_scores(profile, store, "input_norm")
    data, _ = profile.data().load()
    return (spearman_matrix(vectors), pd.DataFrame(single),
            per_example_table(data.source_indices, data.train_labels, vectors, seeds))


def per_example_table(indices: Tensor, labels: Tensor, means: dict[str, Tensor],
                      per_seed: dict[str, Tensor]) -> pd.DataFrame:
    """One row per training example: its index in the dataset's training set, its label, each score's seed mean
    (`<score>@<epoch> mean`) and, where given, each seed's value (`<score>@<epoch> seed <s>`), as float32."""
    columns = {"index": indices.numpy(), "label": labels.numpy()}
    for name, mean in means.items():
        columns[f"{name} mean"] = mean.numpy().astype(np.float32)
        for s, row in enumerate(per_seed.get(name, ())):
            columns[f"{name} seed {s}"] = row.numpy().astype(np.float32)
    return pd.DataFrame(columns).set_index("index")


def init_networks(profile: Profile) -> tuple[tuple[str, int], ...]:
    """(model, width) of each network of the initialisation check: the profile's network at widths doubling from
    its own up to the paper's (the last one the paper's width; a wider profile's network at both), then the
    paper's network at the paper's width (Kirsch's network) where the profile trains another."""
    widths = [profile.width] if profile.width <= PAPER.width else [PAPER.width, profile.width]
    while widths[-1] < PAPER.width:
        widths.append(min(widths[-1] * 2, PAPER.width))
    paper = [(PAPER.model, PAPER.width)] if profile.model != PAPER.model else []
    return (*((profile.model, w) for w in widths), *paper)


def check_examples(profile: Profile) -> int:
    """How many training images the initialisation check scores."""
    return min(profile.score_agreement.init_check_examples, profile.num_train)


def grand_init_vs_input_norm(profile: Profile, store: RunStore) -> pd.DataFrame:
    """Kirsch's control by network width: Spearman of GraNd at initialisation with the input norm.

    On a fixed random sample of `init_check_examples` training images, for each network of `init_networks`:
    one row per single initialisation (`seeds` 1) and one for the mean over all `score_seeds` (`seeds` n).
    No training is needed: only initialisations are scored.
    """
    sample = prune.random_subset(profile.num_train, check_examples(profile), seed=0)
    norm = compute_scores(profile, store, "input_norm", 0.0, 1, positions=sample)[0].numpy()
    rows = []
    for model, width in init_networks(profile):
        mean, per_seed = compute_scores(profile, store, "grand", 0.0, variant=Variant(model=model, width=width),
                                        positions=sample)
        rows += [{"model": model, "width": width, "seeds": 1, "seed": s,
                  "spearman": spearmanr(g.numpy(), norm).statistic} for s, g in enumerate(per_seed)]
        rows.append({"model": model, "width": width, "seeds": len(per_seed), "seed": np.nan,
                     "spearman": spearmanr(mean.numpy(), norm).statistic})
    return pd.DataFrame(rows)


def run(profile: Profile, store: RunStore, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
    """Tables: `matrix` (Spearman between seed-averaged scores, named "<score>@<epoch>", "forgetting",
    "input_norm"), `single` (each seed against the seed mean), `widths` (GraNd at init vs input norm by width),
    `per_example` (every example's scores, for download)."""
    matrix, single, per_example = score_agreement(profile, store, executor=executor)
    return {"matrix": matrix, "single": single, "widths": grand_init_vs_input_norm(profile, store),
            "per_example": per_example}


def kirsch_comparison(matrix: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Kirsch's Spearman coefficients beside ours for the same pairs (ours at our score epoch)."""
    e = f"{profile.score_epoch:g}"
    kirsch = reference.published()["kirsch_jax"]["spearman"]
    pairs = {  # Kirsch's pair -> ours (his epoch 20 is our score epoch)
        "grand_init_vs_input_norm": ("grand@0", "input_norm"),
        "grand_init_vs_grand_20": ("grand@0", f"grand@{e}"),
        "grand_init_vs_forgetting": ("grand@0", "forgetting"),
        "grand_20_vs_el2n_20": (f"grand@{e}", f"el2n@{e}"),
        "forgetting_vs_el2n_20": ("forgetting", f"el2n@{e}"),
    }
    return pd.DataFrame(
        [{"Kirsch's pair": " vs ".join(map(_at_epoch, k.split("_vs_"))),
          "our pair": f"{method_name(a)} vs {method_name(b)}", f"Kirsch (JAX, {kirsch_runs()} runs)": kirsch[k],
          f"ours ({profile.name})": matrix.loc[a, b]} for k, (a, b) in pairs.items()]
    ).set_index("Kirsch's pair")


def kirsch_gaps(compared: pd.DataFrame) -> str:
    """The pairs of `kirsch_comparison` where ours differ from Kirsch's by more than `KIRSCH_GAP`, in words."""
    theirs, ours = compared.iloc[:, -2], compared.iloc[:, -1]
    far = compared[(ours - theirs).abs() > KIRSCH_GAP]
    if far.empty:
        return f"Every pair is within {KIRSCH_GAP:g} of Kirsch's coefficient."
    listed = "; ".join(f"{row['our pair']}, {row.iloc[-1]:.2f} against his {row.iloc[-2]:.2f}"
                       for _, row in far.iterrows())
    return (f"Ours differ from his by more than {KIRSCH_GAP:g} for {len(far)} of the {len(compared)} pairs ({listed}): "
            "his coefficients come from the authors' ResNet-18 at the paper's score epoch, ours from this profile's "
            "network at its own.")


def _at_epoch(score: str) -> str:
    """A score named as in `published_results.yaml` ('grand_20', 'grand_init') as the book names it ('GraNd@20',
    'GraNd@0')."""
    name, _, epoch = score.rpartition("_")
    epoch = "0" if epoch == "init" else epoch
    return method_name(f"{name}@{epoch}" if epoch.isdigit() else score)


def kirsch_runs() -> int:
    """How many initialisations Kirsch's JAX scores average."""
    return int(reference.published()["kirsch_jax"]["score_runs"])


def width_conclusion(seed_mean: pd.Series, profile: Profile, kirsch_rho: float) -> str:
    """What the seed-mean Spearman (indexed by model, width) says of the gap to Kirsch's value: whether it rises
    on the profile's network from its width to the paper's by more than `WIDTH_MARGIN`, and whether the paper's
    network at the paper's width comes within `WIDTH_MARGIN` of Kirsch's."""
    own, wide = seed_mean[(profile.model, profile.width)], seed_mean[(profile.model, PAPER.width)]
    paper = seed_mean[(PAPER.model, PAPER.width)]
    rises = wide > own + WIDTH_MARGIN
    matches = abs(paper - kirsch_rho) <= WIDTH_MARGIN
    sample, runs = check_examples(profile), kirsch_runs()
    causes = [f"fewer initialisations than his {runs} ({profile.score_seeds})"] * (profile.score_seeds < runs) + [
        f"a sample of {sample:,} images"] * (sample < TRAIN_SIZES["cifar10"])  # his: every training image
    causes.append("a difference in how the score is computed")
    rest = (f"{', '.join(causes[:-1])} or {causes[-1]} remain to explain" if len(causes) > 1 else
            f"{causes[0]} remains to explain")
    if profile.model == PAPER.model and profile.width >= PAPER.width:
        return (f"At the paper's width the seed mean comes within {WIDTH_MARGIN:g} of Kirsch's {kirsch_rho:.2f}: our "
                "GraNd reproduces his control." if matches else
                f"At the paper's width the seed mean differs from Kirsch's {kirsch_rho:.2f} by more than "
                f"{WIDTH_MARGIN:g}: {rest} it.")
    if profile.model == PAPER.model:
        if rises and matches:
            return (f"The correlation rises with width and at width {PAPER.width} comes within {WIDTH_MARGIN:g} of "
                    f"Kirsch's {kirsch_rho:.2f}: the gap on our main network comes from its narrowness, not from a "
                    "different score.")
        if rises:
            return (f"The correlation rises with width, but at width {PAPER.width} it still differs from Kirsch's "
                    f"{kirsch_rho:.2f} by more than {WIDTH_MARGIN:g}: width explains part of the gap; {rest} the "
                    "rest.")
        return (f"The correlation does not rise with width, so width does not explain the gap to Kirsch's "
                f"{kirsch_rho:.2f}.")
    network = model_name(PAPER.model)
    trend = (f"On our network the correlation {'rises' if rises else 'does not rise'} with width "
             f"({own:.2f} at width {profile.width}, {wide:.2f} at {PAPER.width}).")
    if matches:
        return (f"{trend} On the paper's network, {network} width {PAPER.width}, the seed mean comes within "
                f"{WIDTH_MARGIN:g} of Kirsch's {kirsch_rho:.2f}: our GraNd reproduces his control there, so a gap on "
                "our network comes from the network, not from a different score.")
    return (f"{trend} On the paper's network, {network} width {PAPER.width}, the seed mean still differs from Kirsch's "
            f"{kirsch_rho:.2f} by more than {WIDTH_MARGIN:g}: {rest} the gap there.")


def predicted(rho: float, profile: Profile) -> str:
    """`rho`, one seed against the mean of the profile's other seeds, as the paper's mean of its score runs would
    see it (`spearman_brown`), in words."""
    if profile.score_seeds < 2 or rho != rho:
        return "cannot be predicted from a single seed"
    return projected_words(spearman_brown(rho, profile.score_seeds - 1, PAPER.score_seeds), PAPER.score_seeds)


def facts(tables: dict[str, pd.DataFrame], profile: Profile) -> dict:
    matrix, single, widths = tables["matrix"], tables["single"], tables["widths"]
    compared = kirsch_comparison(matrix, profile)
    kirsch_rho = reference.published()["kirsch_jax"]["spearman"]["grand_init_vs_input_norm"]
    at_score_epoch = single[single["epoch"] == profile.score_epoch].groupby("score")["spearman_to_mean"].mean()
    seed_mean = widths[widths["seeds"] > 1].set_index(["model", "width"])["spearman"]
    one = widths[widths["seeds"] == 1].groupby(["model", "width"])["spearman"].mean()
    own, wide, paper = (profile.model, profile.width), (profile.model, PAPER.width), (PAPER.model, PAPER.width)
    everything = (f" ({matrix.loc['grand@0', 'input_norm']:.2f} on all {profile.num_train:,} training images, in the "
                  "table above)" if check_examples(profile) < profile.num_train else "")
    measured = (f"on our network ({model_name(profile.model)}) at its width {profile.width} one initialisation "
                f"gives Spearman {one[own]:.2f} and the seed mean {seed_mean[own]:.2f}{everything}")
    if wide != own:
        measured += f"; at width {PAPER.width}, {one[wide]:.2f} and {seed_mean[wide]:.2f}"
    if paper != wide:
        measured += (f"; on the paper's network ({model_name(PAPER.model)} width {PAPER.width}), "
                     f"{one[paper]:.2f} and {seed_mean[paper]:.2f}")
    return {
        "kirsch": compared.style.format("{:.3f}", subset=compared.columns[1:]),
        "kirsch_gaps": kirsch_gaps(compared),
        "rho_grand": f"{at_score_epoch['grand']:.2f}",
        "rho_el2n": f"{at_score_epoch['el2n']:.2f}",
        "rho_grand_paper": predicted(at_score_epoch["grand"], profile),
        "seeds": str(profile.score_seeds),
        "epoch": f"{profile.score_epoch:g}",
        "init_norm": f"{matrix.loc['grand@0', 'input_norm']:.3f}",
        "kirsch_init_norm": f"{kirsch_rho:.3f}",
        "init_norm_ours": f"{model_name(profile.model)} width {profile.width}, mean of {profile.score_seeds}",
        "init_norm_his": f"{model_name(PAPER.model)} width {PAPER.width}, mean of {kirsch_runs()}",
        "single_run_claim": reference.claim("single_run"),  # judged on the seeds page
        "kirsch_runs": str(kirsch_runs()),
        "w_examples": f"{check_examples(profile):,}",
        "w_measured": measured,
        "w_conclusion": width_conclusion(seed_mean, profile, kirsch_rho),
    }


def verdicts(tables: dict[str, pd.DataFrame], profile: Profile) -> list[Verdict]:
    return []
