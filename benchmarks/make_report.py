"""Run the benchmarks and write the results page ``doc/benchmarks.rst``.

The page has three parts: "cost" (``bench_cost.py``: what a query costs
against the peers), "label" (``bench_label_efficiency.py``: how many labels
it saves) and "targets" (``bench_linear.py``, ``bench_floor.py``,
``bench_big_networks.py`` and ``bench_threads.py``: ratios at the shapes
users bring against the targets set for them; see ``_report_targets.py``).
One command regenerates the page, its plots (``doc/benchmarks/*.png``) and the
raw results (``doc/benchmarks/*.json``)::

    python benchmarks/make_report.py            # the full configuration (hours on 2 cores)
    python benchmarks/make_report.py --reduced  # fewer seeds, repeats and sizes
    python benchmarks/make_report.py --smoke    # seconds; for the test suite

``--render-only`` rewrites the page from the JSON files of the last run
without running the benchmarks again; ``--only cost`` (or ``label``, or
``targets``) runs one part again and keeps the others' results from their
last run. Real runs of different configurations may be combined (the page
names each part's); a smoke run's results never mix with a real run's.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cost  # noqa: E402
import bench_label_efficiency  # noqa: E402
from _common import require  # noqa: E402
from _report_targets import run_targets, targets_section  # noqa: E402
from _rst import heading, list_table, seconds  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CONFIGS = {
    # Every model and strategy on 10 seeds; 6 rounds of 5 labels from pools
    # of 300, and 10 candidates per query for the peers that refit per
    # candidate (a query of theirs costs ~10 refits per candidate).
    # The targets: every shape of the scripts' defaults; pools of 1M and 10M
    # rows against the floor.
    "full": {
        "cost": [],
        "label": ["--rounds", "6", "--max-pool", "300", "--peer-candidates", "10"],
        "targets": {"linear": [], "floor": ["--rows", "1000000", "10000000", "--repeat", "3"],
                    "big_networks": [], "threads": []},
    },
    # The targets: 1M rows only, CPU time for the one-thread floor ratios
    # (less inflated by other processes), networks on 300 rows for 50 iterations.
    "reduced": {
        "cost": ["--repeat", "3"],
        "label": ["--seeds", "10", "--rounds", "6", "--max-pool", "300",
                  "--peer-candidates", "10", "--peer-seeds", "3", "--mlp-seeds", "1",
                  "--n-jobs", "2"],
        "targets": {"linear": ["--repeat", "3"],
                    "floor": ["--rows", "1000000", "--repeat", "2", "--clock", "cpu"],
                    "big_networks": ["--n-samples", "300", "--max-iter", "50"],
                    "threads": ["--max-iter", "20", "--repeat", "1"]},
    },
    "smoke": {
        "cost": ["--smoke"], "label": ["--smoke"],
        "targets": {"linear": ["--quick"], "floor": ["--rows", "3000", "--repeat", "1"],
                    "big_networks": ["--quick"], "threads": ["--quick", "--repeat", "1"]},
    },
}

PARTS = ("cost", "label", "targets")

OURS = "influence top-k"


def load_part(out, name):
    """The results of part ``name`` from its JSON file in ``out``."""
    path = out / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python benchmarks/make_report.py "
                         f"--only {name}` (with the configuration's flag) first.")
    return json.loads(path.read_text())


def run(args, parts=PARTS):
    """Run the parts in ``parts``; the others' results are read from their last run."""
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    config = CONFIGS[args.config]
    benchmarks = {"cost": bench_cost.main, "label": bench_label_efficiency.main}
    results = {}
    for name in set(PARTS) - set(parts):
        path = out / f"{name}.json"
        results[name] = load_part(out, name)
        stored = results[name].get("report_config")
        if (stored == "smoke") != (args.config == "smoke"):
            raise SystemExit(
                f"{path} is from the {stored!r} configuration, not {args.config!r}: a smoke "
                "run's results are not mixed with a real run's; run every part (without "
                "--only)."
            )
    for name in parts:
        path = out / f"{name}.json"
        tic = time.perf_counter()
        if name == "targets":
            result = run_targets(config[name])
        else:
            result = benchmarks[name](config[name] + ["--json", str(path)])
        result["wall_seconds"] = time.perf_counter() - tic
        result["report_config"] = args.config
        result["command_args"] = config[name]
        path.write_text(json.dumps(result, indent=1))
        results[name] = result
    return results


def command_line(script, result):
    """The command that produced ``result`` (no trailing space: an RST literal forbids it)."""
    return " ".join([f"python benchmarks/{script}", *result["command_args"]])


# --------------------------------------------------------------------------
# Plots.
# --------------------------------------------------------------------------
def plot_curves(label, model, path):
    plt = require("matplotlib.pyplot", extra="benchmarks")
    datasets = list(label["datasets"])
    ncols = min(4, len(datasets))
    nrows = int(np.ceil(len(datasets) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3.2 * nrows), squeeze=False)
    labels = np.array(label["labels"])
    rows = [r for r in label["summary"] if r["model"] == model]
    strategies = label["strategies"]
    cmap = plt.get_cmap("tab20")
    for ax, dataset in zip(axes.flat, datasets):
        for i, strategy in enumerate(strategies):
            match = [r for r in rows if r["dataset"] == dataset and r["strategy"] == strategy]
            if not match:
                continue
            r = match[0]
            mean, se = np.array(r["mean"]), np.array(r["se"])
            ours = strategy.startswith("influence")
            color = {"random": "k", OURS: "tab:blue",
                     "influence greedy batch": "tab:cyan"}.get(strategy, cmap(2 + i))
            ls = "--" if strategy == "random" else ":" if "on ours" in strategy else "-"
            style = dict(lw=2.5 if ours else 1.0, color=color, ls=ls, zorder=3 if ours else 2)
            ax.plot(labels, mean, label=strategy, **style)
            ax.fill_between(labels, mean - se, mean + se, alpha=0.15, color=style["color"])
        ax.set_title(dataset)
        ax.set_xlabel("labels")
        ax.set_ylabel("test RMSE / std(y)")
    for ax in list(axes.flat)[len(datasets):]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0),
               ncol=min(2 * ncols, len(names)), fontsize=8)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def plot_cost(cost, path):
    plt = require("matplotlib.pyplot", extra="benchmarks")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = list(dict.fromkeys(r["what"] for r in cost["pool"]))
    cmap = plt.get_cmap("tab20")
    for i, name in enumerate(names):
        pts = [(r["n_pool"], r["seconds"]) for r in cost["pool"]
               if r["what"] == name and "seconds" in r]
        if pts:
            x, y = zip(*pts)
            ours = "influence" in name or "CuriousRegressor" in name
            ax.loglog(x, y, "o-", label=name, color=cmap(i), lw=2.5 if ours else 1)
    ax.set_xlabel("pool size (candidates)")
    ax.set_ylabel("seconds per query (best of runs)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


# --------------------------------------------------------------------------
# The page.
# --------------------------------------------------------------------------
def cost_section(cost):
    cfg = cost["config"]
    parts = [heading("What a query costs", "-")]
    parts.append(
        f"Synthetic data with {cfg['n_features']} features; best of {cfg['repeat']} "
        f"timings (fewer for runs over {cfg['peer_budget'] / 4:.0f} s); ratios are to the "
        "reference row measured in the same process. Command: "
        f"``{command_line('bench_cost.py', cost)}``.\n")
    parts.append(heading("Fitting", "~"))
    parts.append("Each ratio is to the reference row above it: ``Ridge`` for the linear fits, "
                 "``MLPRegressor`` for the network rows (same architecture, L-BFGS, the same "
                 "fixed iteration budget with ``tol=0``; the iteration counts are in the rows). "
                 "The MLP's training-only row is what ``CuriousRegressor(model='mlp').fit`` runs "
                 "before computing the tangent, the Hessian and the noise variance.\n")
    rows = []
    for r in cost["fit"]:
        if "seconds" in r:
            rows.append([r["n"], r["what"], seconds(r["seconds"]),
                         "reference" if r.get("reference") else f"{r['ratio']:.2f}x"])
        else:
            rows.append([r["n"], r["what"], "not run", r["not_run"]])
    parts.append(list_table(["n samples", "what", "time", "ratio"], rows))
    parts.append(heading("Scoring a pool and querying", "~"))
    parts.append(
        f"The model is fitted on {cfg['n_labelled']} labelled points; each row scores (or "
        "queries one point from) a pool of unlabelled candidates. The ratio is to "
        "``CuriousRegressor.predict`` on the same pool. The peers' times include the "
        "model fits their ``query`` performs (scikit-activeml refits its regressor; modAL's "
        "Gaussian process is fitted, with its kernel hyperparameters, before the query); "
        f"``CuriousRegressor.fit`` on the labelled set takes "
        f"{seconds(cfg['fit_seconds_labelled'])}. A peer is not run at a pool size where its "
        f"extrapolated time exceeds {cfg['peer_budget']:.0f} s. The exact influence is checked "
        "equal to ``influence_score`` at every pool size.\n")
    pools = sorted({r["n_pool"] for r in cost["pool"]})
    names = list(dict.fromkeys(r["what"] for r in cost["pool"]))
    rows = []
    for name in names:
        row = [name]
        for n in pools:
            match = [r for r in cost["pool"] if r["what"] == name and r["n_pool"] == n]
            if not match:
                row.append("")
            elif "seconds" in match[0]:
                r = match[0]
                row.append(f"{seconds(r['seconds'])} ({r['ratio']:.3g}x)")
            else:
                row.append(match[0]["not_run"])
        rows.append(row)
    parts.append(list_table(["what"] + [f"pool {n:,}" for n in pools], rows))
    parts.append(".. image:: benchmarks/cost.png\n   :alt: query time against pool size\n")
    if cost.get("mlp_pool"):
        parts.append(heading("Scoring a pool with the MLP", "~"))
        parts.append(
            f"``CuriousRegressor(model='mlp')`` (the fitting table's network) fitted on "
            f"{cfg['n_labelled']} labelled points; ``influence_score`` against its ``predict`` "
            "on the same pool, ratios to ``predict``.\n")
        rows = []
        for n in pools:
            match = {r["what"]: r for r in cost["mlp_pool"] if r["n_pool"] == n}
            rows.append([f"{n:,}"] + [f"{seconds(r['seconds'])} ({r['ratio']:.3g}x)"
                                       for r in match.values()])
        names = list(dict.fromkeys(r["what"] for r in cost["mlp_pool"]))
        parts.append(list_table(["pool"] + names, rows))
    return "\n".join(parts)


def _by(label, model):
    return {(r["dataset"], r["strategy"]): r for r in label["summary"] if r["model"] == model}


def headline(label):
    """Per model and strategy: mean AUC ratio to random, and cases won."""
    rows = []
    for model in label["models"]:
        by = _by(label, model)
        for strategy in label["strategies"]:
            ratios, wins = [], 0
            for d in label["datasets"]:
                if (d, strategy) not in by:
                    continue
                ours, rnd = by[(d, strategy)], by[(d, "random")]
                common = dict(zip(rnd["seeds"], rnd["aucs"]))  # same seeds on both sides
                pairs = [(a, common[k]) for k, a in zip(ours["seeds"], ours["aucs"])
                         if k in common]
                ratios.append(np.mean([a for a, _ in pairs]) / np.mean([b for _, b in pairs]))
                present = [by[(d, s)]["auc"] for s in label["strategies"] if (d, s) in by]
                wins += by[(d, strategy)]["auc"] == min(present)
            rows.append([model, strategy, f"{np.mean(ratios):.3f}",
                         f"{min(ratios):.3f} to {max(ratios):.3f}",
                         f"{wins} of {len(ratios)}"])
    return list_table(["model", "strategy", "AUC / random's AUC (mean over datasets)",
                       "range over datasets", "lowest AUC"], rows,
                      title="Summary over the datasets (below 1: better than random)")


def label_section(label):
    cfg = label["config"]
    labels = label["labels"]
    parts = [heading("How many labels it saves", "-")]
    parts.append(
        f"Each run starts from {cfg['n_initial']} random labels and queries {cfg['batch']} "
        f"per round for {cfg['rounds']} rounds ({labels[0]} to {labels[-1]} labels), from a "
        f"pool of at most {cfg['max_pool']} points; the test set is 30% of the data (at most "
        f"{cfg['max_test']} points). Seeds 0 to {cfg['seeds'] - 1} fix the split, the initial "
        "labels and the strategies' randomness"
        + ("" if cfg["peer_seeds"] >= cfg["seeds"] else
           f"; EMCM, EMVR, KLD and EMOC ran on seeds 0 to {cfg['peer_seeds'] - 1} only (they "
           "refit a model per bootstrap or per candidate)")
        + ("" if "mlp" not in label["models"] or cfg.get("mlp_seeds", cfg["seeds"])
           >= cfg["seeds"] else
           f"; the MLP model ran on seeds 0 to {cfg['mlp_seeds'] - 1} only (every strategy "
           "refits a network)")
        + f". EMVR, KLD and EMOC refit their regressor once per candidate, so they score a "
        f"random subset of {cfg['peer_candidates']} pool points per query. "
        "The model under test is a ``CuriousRegressor`` after ``StandardScaler`` "
        "(linear, alpha=1), after ``StandardScaler, PolynomialFeatures(2), StandardScaler`` "
        "(poly, alpha=10), or ``CuriousRegressor(model='mlp')`` after ``StandardScaler`` "
        "(mlp: one hidden layer of 8 tanh units, L-BFGS, max_iter=200, alpha=10, "
        "random_state=0); every strategy's labels are scored by that model. Influence top-k "
        "takes the batch's highest ``influence_score`` of that fitted model; the influence "
        "greedy batch (rank-one updates of the tangent between picks), variance sampling and "
        "the strategies marked (ours) come from ``sklearn_curiosity.query`` applied to it. "
        "The peers use "
        "their own regressors on the same features: ``SklearnRegressor(Ridge)`` for GSy, iGS "
        "and EMCM (for the mlp model, sklearn's ``MLPRegressor`` with the same architecture, "
        "solver and alpha), a bag of 5 of those for QBC, "
        "``SklearnNormalRegressor(BayesianRidge)`` for EMVR and KLD (sklearn has no "
        "probabilistic network, so also for the mlp model), and a Gaussian process "
        "(constant x RBF + white kernel) for modAL. The strategies marked **on ours** are the "
        "*peer strategy on our model*: scikit-activeml's ExpectedModelVarianceReduction, "
        "KLDivergenceMaximization, ExpectedModelOutputChange and QueryByCommittee "
        "(committee drawn by ``sample_y``, 5 draws) run unchanged on the model under test "
        "through ``sklearn_curiosity.skactiveml.CuriousProbabilisticRegressor``. "
        f"Command: ``{command_line('bench_label_efficiency.py', label)}``.\n")
    fallbacks = [r for r in label["summary"] if r.get("random_fallback_rounds")]
    if fallbacks:
        parts.append(
            "Rounds drawn at random in whole or in part: where a strategy of ours could not "
            "score, because the fitted model had no residual degrees of freedom left to "
            "estimate the noise variance (its scores then refuse), the whole batch; where a "
            "strategy returned fewer picks than the batch (NaN utilities), the rest of it: "
            + "; ".join(f"{r['strategy']} on {r['dataset']} ({r['model']}), "
                        f"{r['random_fallback_rounds']} of {r['rounds_total']} rounds"
                        + ("" if not r.get("errors") else " (" + "; ".join(
                            f"{n}x ``{m}``" for m, n in r["errors"].items()) + ")")
                        for r in fallbacks) + ".\n")
    else:
        parts.append("No round had to be drawn at random in place of a strategy.\n")
    rows = [[d, v["source"], v["description"]] for d, v in label["datasets"].items()]
    parts.append(list_table(["dataset", "shipped by", "target"], rows))
    parts.append(headline(label))
    not_run = {**label["not_run_models"], **label["not_run_strategies"]}
    if not_run:
        parts.append("Not run on this branch: " + "; ".join(
            f"**{k}** ({v})" for k, v in not_run.items()) + ".\n")
    for model in label["models"]:
        by = _by(label, model)
        parts.append(heading(f"Model: {model}", "~"))
        parts.append(f".. image:: benchmarks/curves_{model}.png\n   :alt: learning curves, "
                     f"{model} model\n")
        strategies = label["strategies"]
        rows, reach_rows = [], []
        for d in label["datasets"]:
            present = [s for s in strategies if (d, s) in by]
            best = min(by[(d, s)]["auc"] for s in present)
            row, reach = [d], [d]
            for s in strategies:
                r = by.get((d, s))
                if r is None:
                    row.append("")
                    reach.append("")
                    continue
                cell = f"{r['auc']:.3f} ± {r['auc_se']:.3f}"
                row.append(f"**{cell}**" if r["auc"] == best else cell)
                n = r["labels_to_random_final"]
                reach.append(str(n) if n is not None else f"> {labels[-1]}")
            rows.append(row)
            reach_rows.append(reach)
        parts.append(list_table(["dataset"] + strategies, rows,
                                title=f"normalized RMSE-AUC ({model}; lower is better; best "
                                      "in bold; ± standard error over seeds)"))
        parts.append(list_table(["dataset"] + strategies, reach_rows,
                                title=f"labels needed to reach random's final RMSE ({model})"))
    return "\n".join(parts)


def paired(ours, other):
    """Mean and standard error of ``other - ours`` AUC over the seeds both ran."""
    a = dict(zip(ours["seeds"], ours["aucs"]))
    b = dict(zip(other["seeds"], other["aucs"]))
    diff = np.array([b[k] - a[k] for k in a if k in b])
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return diff.mean(), se, len(diff)


def _losses_of(label, ours_name):
    lines, n_cases, n_best, worse_than_random = [], 0, 0, 0
    for model in label["models"]:
        by = _by(label, model)
        for d in label["datasets"]:
            present = {s: by[(d, s)] for s in label["strategies"] if (d, s) in by}
            ours = present[ours_name]
            n_cases += 1
            # other - ours < 0: the other strategy has the lower (better) AUC
            diffs = {s: paired(ours, r) for s, r in present.items() if s != ours_name}
            beaten = sorted((v[0], s) for s, v in diffs.items() if v[0] < 0)
            if diffs["random"][0] < 0:
                worse_than_random += 1
            if not beaten:
                n_best += 1
                continue
            described = []
            for _, s in beaten:
                mean, se, n = diffs[s]
                described.append(f"{s} by {-mean:.3f} ± {se:.3f} ({n} seeds)")
            lines.append(f"- {d}, {model} ({ours_name} AUC {ours['auc']:.3f}): beaten by "
                         + "; ".join(described) + ".")
    summary = (f"**{ours_name}** beats every other strategy in {n_best} of {n_cases} "
               f"dataset/model cases, and random sampling beats it in {worse_than_random} of "
               f"{n_cases}.")
    return summary, lines


def losses_section(label, cost):
    parts = [heading("Where influence sampling loses", "-")]
    ours_names = [s for s in label["strategies"] if s.startswith("influence")]
    results = {name: _losses_of(label, name) for name in ours_names}
    parts.append(
        "Each comparison is paired: the difference of normalized RMSE-AUC between two "
        "strategies on the same seeds (same split, same initial labels), with its standard "
        "error (a difference within about two standard errors is not a clear loss). "
        + " ".join(summary for summary, _ in results.values()) + "\n")
    for name, (_, lines) in results.items():
        parts.append(f"Every strategy that did better than **{name}** on average, case by "
                     "case:\n")
        parts.append("\n".join(lines) + "\n" if lines else "None.\n")
    parts.append(
        "Caveats: the peers ran with their default settings and their own regressors, not "
        "tuned here (nor is alpha for the model under test); "
        + ("EMCM, EMVR, KLD and EMOC ran on fewer seeds and " if label["config"]["peer_seeds"]
           < label["config"]["seeds"] else "")
        + "EMVR, KLD and EMOC scored a random subset of candidates (see above), which may "
        "handicap them. Where the model is no better than predicting the mean even at the "
        "end of random sampling's curve (normalized RMSE above 1: "
        + (", ".join(f"{r['dataset']} {r['model']}" for r in label["summary"]
                     if r["strategy"] == "random" and r["mean"][-1] > 1) or "none here")
        + "), the ranking of strategies says little.\n")
    query = "influence top-1 query (score + argmax)"
    ours = {r["n_pool"]: r["seconds"] for r in cost["pool"] if r["what"] == query}
    faster = [f"{r['what']} at pool {r['n_pool']:,}" for r in cost["pool"]
              if "seconds" in r and r["what"].startswith(("skactiveml", "modAL", "peer"))
              and r["seconds"] < ours[r["n_pool"]]]
    parts.append(
        "In cost, " + ("peers faster than an influence query: " + "; ".join(faster)
                       if faster else "no peer query measured here was faster than an "
                       "influence query at the same pool size")
        + "; the influence query's own price is the tangent at fit time (the fitting table).\n")
    return "\n".join(parts)


def machine_section(cost, label, targets):
    info = cost["machine"]
    rows = [[k, v] for k, v in info.items()]
    rows.append(["load average at label-efficiency start",
                 label["machine"]["load average at start"]])
    rows.append(["wall time", f"cost {cost['wall_seconds']:.0f} s, label efficiency "
                              f"{label['wall_seconds']:.0f} s, targets "
                              f"{targets['wall_seconds']:.0f} s"])
    return heading("Machine and versions", "-") + "\n" + list_table(["", ""], rows)


# The peers the influence strategy is measured against (issue 19's goal): our
# implementations of Wu's greedy baselines and variance sampling, and the other
# libraries' strategies through their own APIs.
PEERS = ("variance sampling", "GSx (ours)", "GSy (ours)", "iGS (ours)", "QBC (skactiveml)",
         "EMCM (skactiveml)", "EMVR (skactiveml)", "KLD (skactiveml)", "max_std GP (modAL)",
         "EMOC (skactiveml on ours)")
# Issue 19's further ideas (benchmark strategies only), reported beside ours.
IDEAS = ("variance reduction (closed form)",)


def _paired_ratio(run, reference):
    """Mean AUC of ``run`` over mean AUC of ``reference`` on the seeds both ran."""
    common = dict(zip(reference["seeds"], reference["aucs"]))
    pairs = [(a, common[k]) for k, a in zip(run["seeds"], run["aucs"]) if k in common]
    return np.mean([a for a, _ in pairs]) / np.mean([b for _, b in pairs])


def goal_rows(label):
    """Per model and influence strategy: issue 19's goal figures.

    Mean over the datasets of the AUC ratio to random (paired seeds), wins
    against random, the best peer (lowest mean ratio) and our ratio to it, and
    the datasets where the best peer on that dataset is ahead by more than two
    standard errors (``sqrt(se_ours^2 + se_peer^2)``; a peer run on one seed
    contributes no error of its own).
    """
    rows = []
    for model in label["models"]:
        by = _by(label, model)
        datasets = [d for d in label["datasets"] if (d, "random") in by]

        def mean_ratio(strategy):
            ratios = [_paired_ratio(by[(d, strategy)], by[(d, "random")])
                      for d in datasets if (d, strategy) in by]
            return (float(np.mean(ratios)) if ratios else np.nan), ratios

        peers = {p: mean_ratio(p)[0] for p in PEERS if any((d, p) in by for d in datasets)}
        best_peer = min(peers, key=peers.get) if peers else None
        for strategy in label["strategies"]:
            if not (strategy.startswith("influence") or strategy in IDEAS):
                continue
            ratio, ratios = mean_ratio(strategy)
            behind = []
            for d in datasets:
                present = [p for p in PEERS if (d, p) in by]
                if (d, strategy) not in by or not present:
                    continue
                ours = by[(d, strategy)]
                peer = min(present, key=lambda p: by[(d, p)]["auc"])
                se = np.hypot(ours["auc_se"], by[(d, peer)]["auc_se"])
                gap = (ours["auc"] - by[(d, peer)]["auc"]) / se if se > 0 else np.inf
                if ours["auc"] > by[(d, peer)]["auc"] and gap > 2:
                    behind.append(f"{d}: {peer} by {gap:.1f} SE")
            rows.append({
                "model": model, "strategy": strategy, "ratio_to_random": ratio,
                "wins_vs_random": int(sum(r < 1 for r in ratios)), "cases": len(ratios),
                "best_peer": best_peer, "best_peer_ratio": peers.get(best_peer, np.nan),
                "ratio_to_best_peer": ratio / peers[best_peer] if best_peer else np.nan,
                "behind_by_2se": behind,
            })
    return rows


def uncertainty_rows(label):
    """Per model: each uncertainty's AUC against the same strategy with "noise".

    The relative difference ``AUC_u / AUC_noise - 1`` on every (dataset,
    seed) both ran, its mean and standard error over those pairs, and the
    datasets where the mean AUC is lower (negative: ``u`` needs fewer labels).
    """
    rows = []
    for model in label["models"]:
        by = _by(label, model)
        for family in ("influence top-k", "influence greedy batch"):
            for uncertainty in ("epistemic", "total"):
                strategy = f"{family} {uncertainty}"
                differences, better = [], 0
                for d in label["datasets"]:
                    if (d, strategy) not in by or (d, family) not in by:
                        continue
                    noise = dict(zip(by[(d, family)]["seeds"], by[(d, family)]["aucs"]))
                    run = by[(d, strategy)]
                    differences += [a / noise[k] - 1 for k, a in zip(run["seeds"], run["aucs"])
                                    if k in noise]
                    better += run["auc"] < by[(d, family)]["auc"]
                if not differences:
                    continue
                n = len(differences)
                rows.append({"model": model, "strategy": strategy, "pairs": n,
                             "mean_difference": float(np.mean(differences)),
                             "se": float(np.std(differences, ddof=1) / np.sqrt(n)),
                             "datasets_better": better})
    return rows


def goal_markdown(labels):
    """Markdown tables of :func:`goal_rows` for each named label-efficiency result."""
    parts = []
    for name, label in labels.items():
        cfg = label["config"]
        parts.append(
            f"## {name}: batch {cfg['batch']}, alpha {cfg.get('alpha', 'fixed')}, "
            f"{cfg['rounds']} rounds, {cfg['seeds']} seeds (refitting peers on "
            f"{cfg['peer_seeds']}), labels {label['labels'][0]}..{label['labels'][-1]}\n")
        parts.append("| model | strategy | AUC / random | wins vs random | best peer "
                     "(AUC / random) | ours / best peer | behind the dataset's best peer "
                     "by > 2 SE |")
        parts.append("|---|---|---|---|---|---|---|")
        for r in goal_rows(label):
            parts.append(
                f"| {r['model']} | {r['strategy']} | {r['ratio_to_random']:.3f} | "
                f"{r['wins_vs_random']} of {r['cases']} | {r['best_peer']} "
                f"({r['best_peer_ratio']:.3f}) | {r['ratio_to_best_peer']:.3f} | "
                f"{'; '.join(r['behind_by_2se']) or 'none'} |")
        parts.append("")
        parts.append("| model | strategy | AUC / same strategy with noise - 1 (mean +- SE over "
                     "dataset-seed pairs) | datasets with a lower mean AUC than noise |")
        parts.append("|---|---|---|---|")
        for r in uncertainty_rows(label):
            parts.append(f"| {r['model']} | {r['strategy']} | {100 * r['mean_difference']:+.2f}% "
                         f"+- {100 * r['se']:.2f}% ({r['pairs']} pairs) | "
                         f"{r['datasets_better']} |")
        parts.append("")
    return "\n".join(parts)


def goal_rst(labels):
    """:func:`goal_markdown`'s tables as reStructuredText, for the benchmarks pages."""
    parts = []
    for name, label in labels.items():
        cfg = label["config"]
        title = (f"{name}: batch {cfg['batch']}, alpha {cfg.get('alpha', 'fixed')}, "
                 f"{cfg['rounds']} rounds, {cfg['seeds']} seeds (refitting peers on "
                 f"{cfg['peer_seeds']}), labels {label['labels'][0]}..{label['labels'][-1]}")
        parts.append(heading(title, "~"))
        parts.append(list_table(
            ["model", "strategy", "AUC / random", "wins vs random", "best peer (AUC / random)",
             "ours / best peer", "behind the dataset's best peer by > 2 SE"],
            [[r["model"], r["strategy"], f"{r['ratio_to_random']:.3f}",
              f"{r['wins_vs_random']} of {r['cases']}",
              f"{r['best_peer']} ({r['best_peer_ratio']:.3f})",
              f"{r['ratio_to_best_peer']:.3f}", "; ".join(r["behind_by_2se"]) or "none"]
             for r in goal_rows(label)]))
        rows = uncertainty_rows(label)
        if rows:
            parts.append(list_table(
                ["model", "strategy", "AUC / same strategy with noise - 1 (mean ± SE over "
                 "dataset-seed pairs)", "datasets with a lower mean AUC than noise"],
                [[r["model"], r["strategy"],
                  f"{100 * r['mean_difference']:+.2f}% ± {100 * r['se']:.2f}% "
                  f"({r['pairs']} pairs)", r["datasets_better"]] for r in rows]))
    return "\n".join(parts)


def report_command(config, only=None):
    """The ``make_report.py`` command of a configuration (and of one part)."""
    return ("python benchmarks/make_report.py" + ("" if config == "full" else f" --{config}")
            + (f" --only {only}" if only else ""))


def provenance(results):
    """The sentences that say which command produced which part of the page."""
    configs = {name: results[name]["report_config"] for name in PARTS}
    raw = ", ".join(f"``doc/benchmarks/{name}.json``" for name in PARTS)
    if len(set(configs.values())) == 1:
        config = configs["cost"]
        text = (f"Every number and plot on this page was produced by "
                f"``{report_command(config)}`` (configuration ``{config}``), which runs the "
                f"benchmarks and writes this page; the raw results are in {raw}. ")
    else:
        text = ("The parts of this page come from runs of different configurations: "
                + "; ".join(f"{name} from ``{report_command(config, name)}``"
                            for name, config in configs.items())
                + f". The raw results are in {raw}. ")
    if "reduced" in configs.values():
        text += ("The ``reduced`` configuration is not the full one "
                 "(``python benchmarks/make_report.py``: every peer and every model on every "
                 "seed, more repeats and larger pools): it is the largest that fitted the "
                 "time available on the 2 shared cores below (the wall times are at the "
                 "bottom); the exact arguments are given with each benchmark's command. ")
    return text + ("Timings were taken on a machine shared with other jobs (see the load "
                   "averages): ratios measured side by side are more reliable than absolute "
                   "times.\n")


def render(results, out, page):
    cost, label, targets = (results[name] for name in PARTS)
    for model in label["models"]:
        plot_curves(label, model, out / f"curves_{model}.png")
    plot_cost(cost, out / "cost.png")
    text = [
        ".. This page is generated by benchmarks/make_report.py: do not edit it by hand.\n",
        ".. _benchmarks:\n",
        heading("Benchmarks", "="),
        "Two questions decide an active-learning method: what each query costs, and how many "
        "labels it saves. Both are answered here side by side with the tools one would "
        "otherwise use, scikit-activeml and modAL, run through their own APIs. A third part "
        "measures the cost at the shapes users bring (wide and tall linear data, pools of "
        "millions of rows, networks of thousands of parameters, busy machines) against the "
        "targets set for it.\n",
        provenance(results),
        cost_section(cost),
        targets_section(targets),
        label_section(label),
        losses_section(label, cost),
        machine_section(cost, label, targets),
    ]
    page.write_text("\n".join(text))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--reduced", dest="config", action="store_const", const="reduced")
    group.add_argument("--smoke", dest="config", action="store_const", const="smoke")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the page from the JSON files of the last run")
    parser.add_argument("--only", choices=PARTS,
                        help="run this part only; the others' results are those of their "
                             "last run (a smoke run's never mix with a real run's)")
    parser.add_argument("--out", type=Path, default=ROOT / "doc" / "benchmarks",
                        help="folder for the plots and JSON files")
    parser.add_argument("--page", type=Path, default=ROOT / "doc" / "benchmarks.rst")
    parser.add_argument("--goal", type=Path, nargs="+",
                        help="only summarize these label-efficiency JSON files against "
                             "issue 19's goal (markdown on stdout); runs nothing")
    parser.add_argument("--goal-format", choices=["markdown", "rst"], default="markdown",
                        help="--goal's output: markdown, or reStructuredText tables for "
                             "doc/benchmarks/uncertainty_tables.inc")
    parser.set_defaults(config="full")
    args = parser.parse_args(argv)
    if args.goal:
        labels = {path.stem: json.loads(path.read_text()) for path in args.goal}
        print(goal_rst(labels) if args.goal_format == "rst" else goal_markdown(labels))
        return
    require("matplotlib", extra="benchmarks").use("Agg")
    if args.render_only:
        results = {name: load_part(args.out, name) for name in PARTS}
    else:
        results = run(args, (args.only,) if args.only else PARTS)
    render(results, args.out, args.page)
    print(f"wrote {args.page} and {args.out}/")


if __name__ == "__main__":
    main()
