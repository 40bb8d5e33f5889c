"""Label efficiency: learning curves of query strategies on real regression data.

For each dataset, seed and model (linear, polynomial pipeline, and a small MLP
trained by L-BFGS), every strategy starts from the same random labelled set
and the same pool, queries ``--batch`` labels per round for ``--rounds``
rounds, and the model under test (a ``CuriousRegressor`` on the model's
features) is refitted on the labels chosen and scored on a held-out test set.
The test RMSE is divided by the test targets' standard deviation
(normalized RMSE: 1.0 is as good as predicting the mean).

Strategies: influence sampling (top-k curiosity, and the greedy batch, each
for every ``uncertainty``: "noise", "epistemic", "total"; the greedy batch
only with batches of more than one), random, variance sampling and Wu's greedy baselines from
``sklearn_curiosity.query``, and the peers through their own APIs:
scikit-activeml's GreedySamplingX (GSx), GreedySamplingTarget (GSy and iGS),
QueryByCommittee, ExpectedModelChangeMaximization,
ExpectedModelVarianceReduction, KLDivergenceMaximization, and modAL's
max_std_sampling with a Gaussian process. "Peer strategy on our model"
(marked "on ours"): scikit-activeml's ExpectedModelVarianceReduction,
KLDivergenceMaximization, ExpectedModelOutputChange and QueryByCommittee run
on the model under test through
``sklearn_curiosity.skactiveml.CuriousProbabilisticRegressor``.

Where a strategy raises ValueError (our scores when the fitted model has no
residual degrees of freedom left, so its noise variance is NaN; a refit
inside a peer that predicts NaN), the round is drawn at random. Where
a strategy returns fewer picks than the batch (a peer with NaN utilities),
the batch is completed at random. Both are counted (``random_fallback_rounds``,
with the errors' messages).

``--alpha cv`` chooses alpha each round by leave-one-out, as users run it:
the model under test is a ``CuriousRegressorCV`` (closed-form LOO over
``CV_ALPHAS``) and the peers' own Ridge a ``RidgeCV`` over the same grid. A
network has no closed-form LOO: 5-fold CV over the same grid instead
(``CuriousRegressorCV(cv=5)``, ``GridSearchCV`` of ``MLPRegressor``), about
100 fits a round. ``--strategies``
runs a subset (random is always run: the summaries compare to it).

Summaries per curve: the normalized RMSE-AUC (the mean normalized RMSE over the
curve, trapezoidal in the number of labels) and the number of labels needed to
reach random sampling's final RMSE.

Run::

    python benchmarks/bench_label_efficiency.py [--smoke] [--json results.json]
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import BayesianRidge, Ridge, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, optional, progress, require  # noqa: E402
from bench_cost import modal_gp  # noqa: E402
from datasets import DATASETS, load  # noqa: E402

from sklearn_curiosity import CuriousRegressor, CuriousRegressorCV  # noqa: E402

# Fixed in advance, not tuned on the test sets: the quadratic features are
# many more, so they get a stronger penalty.
ALPHA = {"linear": 1.0, "poly": 10.0, "mlp": 10.0}
# A small network trained by L-BFGS, so that the many refits stay affordable.
MLP_KW = dict(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", max_iter=200)
# With --alpha cv: the grid leave-one-out chooses from, each round.
CV_ALPHAS = np.logspace(-2, 4, 13)
UNCERTAINTIES = ("noise", "epistemic", "total")


# --------------------------------------------------------------------------
# Models: a feature map, and the regressor on top of it.
# --------------------------------------------------------------------------
def features(model):
    if model == "linear":
        return [StandardScaler()]
    if model == "poly":
        return [StandardScaler(), PolynomialFeatures(2, include_bias=False), StandardScaler()]
    if model == "mlp":
        return [StandardScaler()]
    raise ValueError(model)


def model_under_test(model, alpha="fixed"):
    if alpha == "cv":
        if model == "mlp":
            # No closed-form leave-one-out for a network: 5-fold refits of
            # each alpha of the grid, about 100 times the cost of one fit.
            return make_pipeline(*features(model), CuriousRegressorCV(
                model="mlp", alphas=CV_ALPHAS, cv=5, random_state=0, **MLP_KW))
        return make_pipeline(*features(model), CuriousRegressorCV(alphas=CV_ALPHAS))
    if model == "mlp":
        return make_pipeline(*features(model), CuriousRegressor(
            model="mlp", alpha=ALPHA[model], random_state=0, **MLP_KW))
    return make_pipeline(*features(model), CuriousRegressor(alpha=ALPHA[model]))


# --------------------------------------------------------------------------
# Strategies: each returns ``batch`` indices into the pool.
# ctx: X_lab, y_lab, X_pool, batch, rng, seed, model (name), fitted (the model
# under test fitted on the labels).
# --------------------------------------------------------------------------
def peer_point_model(model, alpha="fixed"):
    """The peers' own regressor for a model: Ridge (RidgeCV), or sklearn's MLPRegressor."""
    if alpha == "cv" and model != "mlp":
        return RidgeCV(alphas=CV_ALPHAS)
    if model == "mlp":
        from sklearn.model_selection import GridSearchCV
        from sklearn.neural_network import MLPRegressor

        # sklearn scales its penalty by 1/n_samples where ours is on the sum
        # of squares: the same alpha is the same objective.
        mlp = MLPRegressor(alpha=ALPHA[model], random_state=0, **MLP_KW)
        return GridSearchCV(mlp, {"alpha": CV_ALPHAS}, cv=5) if alpha == "cv" else mlp
    return Ridge(alpha=ALPHA[model])


def random_strategy(ctx):
    return ctx["rng"].choice(len(ctx["X_pool"]), ctx["batch"], replace=False)


def _query_strategy(name, labelled=False, **kwargs):
    def run(ctx):
        query = optional("sklearn_curiosity.query")
        func = getattr(query, name)
        if labelled:  # Wu's greedy baselines measure distances to the labelled set
            kwargs.update(X_labelled=ctx["X_lab"], y_labelled=ctx["y_lab"])
        out = func(ctx["fitted"], ctx["X_pool"], n_instances=ctx["batch"], **kwargs)
        return np.asarray(out[0] if isinstance(out, tuple) else out)

    return run


def _skactiveml(strategy_name, regressor, candidates=None, **params):
    """A scikit-activeml strategy run through its own ``query``."""

    def run(ctx):
        skpool = require("skactiveml.pool")
        skreg = require("skactiveml.regressor")
        feats = features(ctx["model"])
        if regressor == "ridge":
            reg = skreg.SklearnRegressor(
                make_pipeline(*feats, peer_point_model(ctx["model"], ctx["alpha"])),
                random_state=ctx["seed"])
        elif regressor == "bagging":
            from sklearn.ensemble import BaggingRegressor

            reg = skreg.SklearnRegressor(
                BaggingRegressor(make_pipeline(*feats, peer_point_model(ctx["model"],
                                                                        ctx["alpha"])),
                                 n_estimators=5, random_state=ctx["seed"]),
                random_state=ctx["seed"])
        elif regressor == "ours":  # peer strategy on our model
            wrapper = require("sklearn_curiosity.skactiveml").CuriousProbabilisticRegressor
            reg = wrapper(model_under_test(ctx["model"], ctx["alpha"]),
                          random_state=ctx["seed"])
        elif regressor == "bayesian":
            reg = skreg.SklearnNormalRegressor(make_pipeline(*feats, BayesianRidge()),
                                               random_state=ctx["seed"])
        else:
            reg = None
        strategy = getattr(skpool, strategy_name)(random_state=ctx["seed"], **params)
        n_lab, n_pool = len(ctx["X_lab"]), len(ctx["X_pool"])
        X = np.vstack([ctx["X_lab"], ctx["X_pool"]])
        y = np.concatenate([ctx["y_lab"], np.full(n_pool, np.nan)])
        cand = n_lab + np.arange(n_pool)
        if candidates is not None and n_pool > candidates:
            cand = np.sort(ctx["rng"].choice(cand, candidates, replace=False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if reg is None:
                idx = strategy.query(X, y, candidates=cand, batch_size=ctx["batch"])
            else:
                idx = strategy.query(X, y, reg, candidates=cand, batch_size=ctx["batch"])
        return np.asarray(idx) - n_lab

    return run


def modal_max_std(ctx):
    max_std_sampling = require("modAL.disagreement").max_std_sampling
    scaler = StandardScaler().fit(ctx["X_lab"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp = modal_gp().fit(scaler.transform(ctx["X_lab"]), ctx["y_lab"])
        out = max_std_sampling(gp, scaler.transform(ctx["X_pool"]), n_instances=ctx["batch"])
    return np.asarray(out[0] if isinstance(out, tuple) else out)


# --------------------------------------------------------------------------
# Issue 19's further ideas, measured here before any of them reaches the
# package: the expected reduction of the pool's integrated predictive variance
# (closed form from the Laplace factor), and density weighting.
# --------------------------------------------------------------------------
def _final_and_pool(ctx):
    """The fitted CuriousRegressor and the pool in its input space."""
    fitted = ctx["fitted"]
    return fitted[-1], np.asarray(fitted[:-1].transform(ctx["X_pool"]), dtype=float)


def _pool_kernel(ctx):
    """``K = J G^-1 J^T`` over the pool, with the Laplace factor of ``predict(return_std=True)``."""
    final, X = _final_and_pool(ctx)
    J = final._model.jacobian(final.params_, X)
    return J @ final._laplace.solve(J.T)


def _summed_variance_drops(K):
    """Drop of the pool's ``sum_x v(x)`` from labelling each candidate ``c``."""
    return np.einsum("ij,ij->j", K, K) / (1.0 + np.diag(K))


def variance_reduction(ctx):
    """Greedy picks of the largest drop of ``sum_x v(x)`` over the pool.

    With ``K = J G^-1 J^T`` over the pool (``K[c, c] = v(x_c)``), labelling
    ``x_c`` lowers ``v(x)`` by ``K[x, c]^2 / (1 + K[c, c])``: the summed drop
    is ``||K[:, c]||^2 / (1 + K[c, c])``, one closed form per candidate where
    scikit-activeml's EMVR refits per candidate. After a pick, ``K`` takes
    the same Sherman-Morrison step.
    """
    K = _pool_kernel(ctx)
    picks = []
    for _ in range(ctx["batch"]):
        gain = _summed_variance_drops(K)
        gain[picks] = -np.inf
        best = int(np.argmax(gain))
        picks.append(best)
        K = K - np.outer(K[:, best], K[best]) / (1.0 + K[best, best])
    return np.array(picks)


def _pool_density(ctx):
    """Mean RBF similarity of each pool point to the pool (bandwidth: the median distance)."""
    from sklearn.metrics import pairwise_distances

    X = StandardScaler().fit_transform(ctx["X_pool"])
    distances = pairwise_distances(X)
    bandwidth = np.median(distances[distances > 0]) if np.any(distances > 0) else 1.0
    return np.exp(-0.5 * (distances / bandwidth) ** 2).mean(axis=1)


def density_weighted(uncertainty):
    """Top-k of the curiosity times the pool density (Settles' information density, beta=1)."""

    def run(ctx):
        from sklearn_curiosity import influence_score

        scores = influence_score(ctx["fitted"], ctx["X_pool"], uncertainty=uncertainty)
        return np.argsort(-scores * _pool_density(ctx), kind="stable")[: ctx["batch"]]

    return run


# The peers that refit a model per candidate or per bootstrap: a few seconds
# per query on this machine, so the reduced configuration runs them on fewer seeds.
EXPENSIVE = ("EMCM (skactiveml)", "EMVR (skactiveml)", "KLD (skactiveml)",
             "EMVR (skactiveml on ours)", "KLD (skactiveml on ours)",
             "EMOC (skactiveml on ours)")
# "Peer strategy on our model": scikit-activeml's strategies run on the model
# under test through CuriousProbabilisticRegressor (its normal predictive
# distribution), marked "on ours".
ON_OURS = "on ours"


def strategies(peer_candidates):
    """Name -> (callable or None, reason when None)."""
    query = optional("sklearn_curiosity.query")
    no_query = "sklearn_curiosity.query is not on this branch yet"
    has = (lambda name: query is not None and hasattr(query, name))
    # "noise" keeps the historical names, so that earlier results compare.
    suffix = {"noise": "", "epistemic": " epistemic", "total": " total"}
    influence = {}
    for uncertainty in UNCERTAINTIES:
        for name, batch in (("influence top-k", None), ("influence greedy batch", "greedy")):
            influence[name + suffix[uncertainty]] = (
                (_query_strategy("influence_sampling", batch=batch,
                                 uncertainty=uncertainty), None)
                if has("influence_sampling") else (None, no_query))
    table = {
        "random": (random_strategy, None),
        **influence,
        "variance sampling": ((_query_strategy("variance_sampling"), None)
                              if has("variance_sampling") else (None, no_query)),
        "GSx (ours)": ((_query_strategy("greedy_sampling_x", labelled=True), None)
                       if has("greedy_sampling_x") else (None, no_query)),
        "GSy (ours)": ((_query_strategy("greedy_sampling_y", labelled=True), None)
                       if has("greedy_sampling_y") else (None, no_query)),
        "iGS (ours)": ((_query_strategy("improved_greedy_sampling", labelled=True), None)
                       if has("improved_greedy_sampling") else (None, no_query)),
        "GSx (skactiveml)": (_skactiveml("GreedySamplingX", None), None),
        "GSy (skactiveml)": (_skactiveml("GreedySamplingTarget", "ridge", method="GSy"), None),
        "iGS (skactiveml)": (_skactiveml("GreedySamplingTarget", "ridge", method="GSi"), None),
        "QBC (skactiveml)": (_skactiveml("QueryByCommittee", "bagging"), None),
        "EMCM (skactiveml)": (_skactiveml("ExpectedModelChangeMaximization", "ridge"), None),
        "EMVR (skactiveml)": (_skactiveml("ExpectedModelVarianceReduction", "bayesian",
                                          candidates=peer_candidates), None),
        "KLD (skactiveml)": (_skactiveml("KLDivergenceMaximization", "bayesian",
                                         candidates=peer_candidates), None),
        "max_std GP (modAL)": (modal_max_std, None),
        "EMVR (skactiveml on ours)": (_skactiveml("ExpectedModelVarianceReduction", "ours",
                                                  candidates=peer_candidates), None),
        "KLD (skactiveml on ours)": (_skactiveml("KLDivergenceMaximization", "ours",
                                                 candidates=peer_candidates), None),
        "EMOC (skactiveml on ours)": (_skactiveml("ExpectedModelOutputChange", "ours",
                                                  candidates=peer_candidates), None),
        "QBC (skactiveml on ours)": (_skactiveml(
            "QueryByCommittee", "ours", sample_predictions_method_name="sample_y",
            sample_predictions_dict={"n_samples": 5}), None),
        "variance reduction (closed form)": (variance_reduction, None),
        "influence top-k epistemic x density": (density_weighted("epistemic"), None),
        "influence top-k total x density": (density_weighted("total"), None),
    }
    return table


# --------------------------------------------------------------------------
# One learning curve per (dataset, seed, model, strategy).
# --------------------------------------------------------------------------
def split(X, y, seed, max_pool, max_test):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = min(max_test, len(y) * 3 // 10)
    test, rest = order[:n_test], order[n_test:]
    pool = rest[:max_pool]
    return X[pool], y[pool], X[test], y[test]


def nrmse(model, X_test, y_test):
    residual = model.predict(X_test) - y_test
    return float(np.sqrt(np.mean(residual**2)) / np.std(y_test))


def run_task(dataset, seed, models, table, cfg):
    X, y = load(dataset)
    X_pool_all, y_pool_all, X_test, y_test = split(X, y, seed, cfg["max_pool"], cfg["max_test"])
    start = np.random.default_rng(seed + 10_000).choice(len(y_pool_all), cfg["n_initial"],
                                                        replace=False)
    out = []
    for model in models:
        if model == "mlp" and seed >= cfg["mlp_seeds"]:
            continue
        for name, (func, _) in table.items():
            if func is None or (name in EXPENSIVE and seed >= cfg["peer_seeds"]):
                continue
            if "greedy batch" in name and cfg["batch"] == 1:
                continue  # a greedy batch of one is the top-k pick
            rng = np.random.default_rng([seed, len(out)])
            labelled = list(start)
            curve, seconds, fallbacks, errors = [], 0.0, 0, {}
            for round_ in range(cfg["rounds"] + 1):
                mask = np.zeros(len(y_pool_all), bool)
                mask[labelled] = True
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fitted = clone(model_under_test(model, cfg["alpha"])).fit(
                        X_pool_all[mask], y_pool_all[mask])
                curve.append(nrmse(fitted, X_test, y_test))
                if round_ == cfg["rounds"]:
                    break
                remaining = np.flatnonzero(~mask)
                ctx = {"X_lab": X_pool_all[mask], "y_lab": y_pool_all[mask],
                       "X_pool": X_pool_all[remaining], "batch": cfg["batch"], "rng": rng,
                       "seed": seed, "model": model, "fitted": fitted, "alpha": cfg["alpha"]}
                tic = time.perf_counter()
                try:
                    chosen = np.asarray(func(ctx), dtype=int).ravel()
                except ValueError as exc:
                    # E.g. our scores need the noise variance, NaN when no
                    # residual degrees of freedom are left; or a refit inside
                    # a peer produced NaN predictions. The round is drawn at
                    # random, and counted with the reason.
                    chosen = random_strategy(ctx)
                    fallbacks += 1
                    reason = str(exc).splitlines()[0][:160]
                    errors[reason] = errors.get(reason, 0) + 1
                seconds += time.perf_counter() - tic
                chosen = np.unique(chosen)
                if len(chosen) < cfg["batch"]:
                    # e.g. a peer whose utilities are NaN for some candidates:
                    # the batch is completed at random, and counted.
                    rest = np.setdiff1d(np.arange(len(remaining)), chosen)
                    fill = rng.choice(rest, cfg["batch"] - len(chosen), replace=False)
                    chosen = np.concatenate([chosen, fill])
                    fallbacks += 1
                elif len(chosen) > cfg["batch"]:
                    raise RuntimeError(f"{name} returned {chosen} for a batch of {cfg['batch']}")
                labelled.extend(remaining[chosen])
            out.append({"dataset": dataset, "seed": seed, "model": model, "strategy": name,
                        "curve": curve, "query_seconds": seconds,
                        "random_fallback_rounds": fallbacks, "errors": errors})
    return out


def _run_task_single_thread(*args):
    # The fits here are small: threaded BLAS only adds contention (tenfold
    # slower network fits on a loaded machine), so one thread per task.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return run_task(*args)


# --------------------------------------------------------------------------
# Summaries.
# --------------------------------------------------------------------------
def summarize(records, labels):
    """Mean/SE curves, AUC and labels-to-random's-final per (dataset, model, strategy)."""
    groups = {}
    for r in records:
        groups.setdefault((r["dataset"], r["model"], r["strategy"]), []).append(r)
    span = labels[-1] - labels[0]
    summary = {}
    for key, runs in groups.items():
        curves = np.array([r["curve"] for r in runs])
        aucs = np.trapezoid(curves, labels, axis=1) / span
        summary[key] = {
            "n_seeds": len(runs),
            "mean": curves.mean(0).tolist(),
            "se": (curves.std(0, ddof=1) / np.sqrt(len(runs))).tolist() if len(runs) > 1
            else [0.0] * len(labels),
            "seeds": [r["seed"] for r in runs],
            "aucs": aucs.tolist(),
            "auc": float(aucs.mean()),
            "auc_se": float(aucs.std(ddof=1) / np.sqrt(len(runs))) if len(runs) > 1 else 0.0,
            "query_seconds": float(np.mean([r["query_seconds"] for r in runs])),
            "random_fallback_rounds": int(sum(r["random_fallback_rounds"] for r in runs)),
            "rounds_total": len(runs) * (len(labels) - 1),
            "errors": {k: sum(r["errors"].get(k, 0) for r in runs)
                       for k in {k for r in runs for k in r["errors"]}},
        }
    for (dataset, model, strategy), s in summary.items():
        target = summary[(dataset, model, "random")]["mean"][-1]
        reached = [n for n, v in zip(labels, s["mean"]) if v <= target]
        s["labels_to_random_final"] = reached[0] if reached else None
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 datasets, 2 seeds, 2 rounds")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=["linear", "poly", "mlp"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-initial", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--max-pool", type=int, default=500)
    parser.add_argument("--max-test", type=int, default=1000)
    parser.add_argument("--peer-candidates", type=int, default=25,
                        help="EMVR and KLD refit once per candidate: they score a random "
                             "subset of this many pool points per query")
    parser.add_argument("--peer-seeds", type=int, default=None,
                        help="run EMCM, EMVR and KLD on the first this many seeds only "
                             "(default: all seeds)")
    parser.add_argument("--mlp-seeds", type=int, default=None,
                        help="run the MLP model on the first this many seeds only "
                             "(default: all seeds)")
    parser.add_argument("--alpha", choices=["fixed", "cv"], default="fixed",
                        help="fixed alpha per model, or chosen each round by leave-one-out "
                             "(CuriousRegressorCV; RidgeCV for the peers' own Ridge), for the "
                             "network by 5-fold CV (GridSearchCV for MLPRegressor)")
    parser.add_argument("--strategies", nargs="+", default=None,
                        help="run only these strategies (random always runs)")
    parser.add_argument("--no-records", action="store_true",
                        help="leave the per-seed curves out of the JSON (the summaries "
                             "keep each seed's AUC)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write curves and summaries here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.datasets, args.seeds, args.rounds = ["diabetes", "engel"], 2, 2
        args.batch, args.max_pool, args.max_test, args.peer_candidates = 3, 60, 60, 3
        args.models, args.peer_seeds, args.mlp_seeds = ["linear", "poly", "mlp"], 1, 1
    if args.peer_seeds is None:
        args.peer_seeds = args.seeds
    if args.mlp_seeds is None:
        args.mlp_seeds = args.seeds

    cfg = {k: v for k, v in vars(args).items() if k != "json"}
    table = strategies(args.peer_candidates)
    if args.strategies is not None:
        unknown = set(args.strategies) - set(table)
        if unknown:
            raise SystemExit(f"unknown strategies {sorted(unknown)}; known: {list(table)}")
        table = {k: v for k, v in table.items() if k == "random" or k in args.strategies}
    not_run = {name: reason for name, (func, reason) in table.items() if func is None}
    skipped_models = {}
    models = list(args.models)
    tasks = [(d, s) for d in args.datasets for s in range(args.seeds)]

    records = []
    bar = progress(total=len(tasks), desc="label efficiency (dataset x seed)")
    if args.n_jobs == 1:
        for d, s in tasks:
            records.extend(_run_task_single_thread(d, s, models, table, cfg))
            bar.update()
    else:
        from joblib import Parallel, delayed

        jobs = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(_run_task_single_thread)(d, s, models, table, cfg) for d, s in tasks)
        for chunk in jobs:
            records.extend(chunk)
            bar.update()
    bar.close()

    labels = [args.n_initial + args.batch * r for r in range(args.rounds + 1)]
    summary = summarize(records, labels)
    result = {
        "config": cfg,
        "machine": machine_info(),
        "labels": labels,
        "datasets": {d: {"source": DATASETS[d][1], "description": DATASETS[d][2]}
                     for d in args.datasets},
        "models": models,
        "not_run_models": skipped_models,
        "not_run_strategies": not_run,
        "strategies": [name for name, (func, _) in table.items() if func is not None
                       and not ("greedy batch" in name and args.batch == 1)],
        "summary": [{"dataset": d, "model": m, "strategy": s, **v}
                    for (d, m, s), v in summary.items()],
        "records": [] if args.no_records else records,
    }
    print_summary(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def print_summary(result):
    print(f"\nnormalized RMSE-AUC (mean over {result['config']['seeds']} seeds), "
          f"labels {result['labels'][0]}..{result['labels'][-1]}")
    for row in result["summary"]:
        reach = row["labels_to_random_final"]
        print(f"{row['dataset']:<10} {row['model']:<7} {row['strategy']:<24} "
              f"AUC {row['auc']:.4f} +- {row['auc_se']:.4f}  "
              f"reach random's final: {reach if reach is not None else 'never'}")
    for name, reason in {**result["not_run_models"], **result["not_run_strategies"]}.items():
        print(f"not run: {name}: {reason}")


if __name__ == "__main__":
    main()
