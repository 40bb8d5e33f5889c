"""What a query costs: sklearn_curiosity against the exact influence and the peers.

Three tables, each measured in one run with ratios to a reference run in the
same process (best of ``--repeat`` timings, on the same data):

1. fit: ``CuriousRegressor.fit`` (coefficients, tangent, noise variance)
   against ``Ridge(solver="cholesky").fit``; and a small MLP trained by
   L-BFGS for a fixed number of iterations: ``MLPRegressor.fit`` against our
   training alone (no tangent) and ``CuriousRegressor(model="mlp").fit``;
2. scoring a pool: ``influence_score`` against ``predict``, and against the
   exact influence computed the way influence-function libraries do it
   (``H^-1 grad loss`` for every candidate: form the Hessian, factorize it,
   one batched solve for all candidates' gradients); for the MLP,
   ``influence_score`` against its ``predict``;
3. one query (batch of 1) on pools of 1k, 10k and 100k candidates, against
   scikit-activeml's regression strategies run through their own API with
   their own regressor wrappers, modAL's ``max_std_sampling`` with a
   Gaussian process, and, marked "peer strategy on our model", scikit-activeml's
   ExpectedModelVarianceReduction, KLDivergenceMaximization,
   ExpectedModelOutputChange and QueryByCommittee run on a CuriousRegressor
   through ``sklearn_curiosity.skactiveml.CuriousProbabilisticRegressor``.
   Peers that would take longer than ``--peer-budget`` seconds at a pool size
   are not run there (the table says so, with the extrapolated time).

Run::

    python benchmarks/bench_cost.py [--smoke] [--json results.json]
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
from sklearn.linear_model import BayesianRidge, Ridge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_time, machine_info, optional, progress, require  # noqa: E402

from sklearn_curiosity import CuriousRegressor, influence_score  # noqa: E402


def make_data(n_samples, n_features, rng):
    X = rng.normal(size=(n_samples, n_features))
    y = X @ rng.normal(size=n_features) + 0.5 * rng.normal(size=n_samples)
    return X, y


# --------------------------------------------------------------------------
# The reference: exact influence, per candidate, the influence-function way.
# --------------------------------------------------------------------------
def exact_influence(estimator, X_train, X_pool):
    """Expected squared influence by ``H^-1 grad`` for every candidate.

    What an influence-function library does for a model it knows nothing
    special about: form the Hessian of the training objective at theta*,
    factorize it, and solve it against every candidate's gradient (one
    batched solve); then dot with ``b = d grad R / d alpha``. For squared
    error and an unlabelled candidate, ``E[I^2] = sigma^2 (b^T H^-1 grad f)^2``
    (doc/theory.rst: theory-influence, theory-curiosity). Exact for the linear model (its Hessian is
    the Gauss-Newton one).
    """
    model, params = estimator._model, estimator.params_
    J_train = model.jacobian(params, X_train)
    hessian = J_train.T @ J_train
    penalized = model.penalized
    hessian[np.diag_indices_from(hessian)] += estimator.alpha * penalized
    factor = scipy.linalg.cho_factor(hessian)
    grads = model.jacobian(params, X_pool)  # one gradient of f per candidate
    solved = scipy.linalg.cho_solve(factor, grads.T)  # H^-1 grad f, p x n_pool
    b = penalized * params  # d/d alpha of grad R for R = alpha/2 ||theta_pen||^2
    return estimator.noise_variance_ * (b @ solved) ** 2


# --------------------------------------------------------------------------
# The peers, each through its own API.
# --------------------------------------------------------------------------
OURS_TAG = "peer strategy on our model: skactiveml"


def _skactiveml_peers(random_state):
    skpool = require("skactiveml.pool")
    skreg = require("skactiveml.regressor")

    def ridge():
        return skreg.SklearnRegressor(Ridge(alpha=1.0), random_state=random_state)

    def committee():
        from sklearn.ensemble import BaggingRegressor

        return skreg.SklearnRegressor(
            BaggingRegressor(Ridge(alpha=1.0), n_estimators=5, random_state=random_state),
            random_state=random_state,
        )

    def bayesian():
        return skreg.SklearnNormalRegressor(BayesianRidge(), random_state=random_state)

    def ours():
        # "peer strategy on our model": the same strategies, run on a
        # CuriousRegressor through its scikit-activeml face.
        return require("sklearn_curiosity.skactiveml").CuriousProbabilisticRegressor(
            CuriousRegressor(alpha=1.0), random_state=random_state)

    sampled = dict(sample_predictions_method_name="sample_y",
                   sample_predictions_dict={"n_samples": 5})
    return {
        "skactiveml GreedySamplingX": (skpool.GreedySamplingX(random_state=random_state), None),
        "skactiveml GreedySamplingTarget (GSy)": (
            skpool.GreedySamplingTarget(method="GSy", random_state=random_state),
            ridge,
        ),
        "skactiveml GreedySamplingTarget (iGS)": (
            skpool.GreedySamplingTarget(method="GSi", random_state=random_state),
            ridge,
        ),
        "skactiveml QueryByCommittee": (
            skpool.QueryByCommittee(random_state=random_state),
            committee,
        ),
        "skactiveml ExpectedModelChangeMaximization": (
            skpool.ExpectedModelChangeMaximization(random_state=random_state),
            ridge,
        ),
        "skactiveml ExpectedModelVarianceReduction": (
            skpool.ExpectedModelVarianceReduction(random_state=random_state),
            bayesian,
        ),
        "skactiveml KLDivergenceMaximization": (
            skpool.KLDivergenceMaximization(random_state=random_state),
            bayesian,
        ),
        f"{OURS_TAG} ExpectedModelVarianceReduction": (
            skpool.ExpectedModelVarianceReduction(random_state=random_state), ours),
        f"{OURS_TAG} KLDivergenceMaximization": (
            skpool.KLDivergenceMaximization(random_state=random_state), ours),
        f"{OURS_TAG} ExpectedModelOutputChange": (
            skpool.ExpectedModelOutputChange(random_state=random_state), ours),
        f"{OURS_TAG} QueryByCommittee (sample_y, 5 draws)": (
            skpool.QueryByCommittee(random_state=random_state, **sampled), ours),
    }


def skactiveml_query(strategy, make_reg, X_lab, y_lab, X_pool, batch_size):
    """One skactiveml query; returns indices into ``X_pool``."""
    X = np.vstack([X_lab, X_pool])
    y = np.concatenate([y_lab, np.full(len(X_pool), np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if make_reg is None:
            idx = strategy.query(X, y, batch_size=batch_size)
        else:
            idx = strategy.query(X, y, make_reg(), batch_size=batch_size)
    return np.asarray(idx) - len(X_lab)


def modal_gp():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel() * RBF() + WhiteKernel()
    return GaussianProcessRegressor(kernel=kernel, normalize_y=True)


def modal_query(X_lab, y_lab, X_pool, batch_size):
    """modAL's max_std_sampling with a fitted Gaussian process."""
    max_std_sampling = require("modAL.disagreement").max_std_sampling
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp = modal_gp().fit(X_lab, y_lab)
        out = max_std_sampling(gp, X_pool, n_instances=batch_size)
    return np.asarray(out[0] if isinstance(out, tuple) else out)


# --------------------------------------------------------------------------
# The tables.
# --------------------------------------------------------------------------
def fit_table(sizes, n_features, repeat, rng):
    rows = []
    for n in progress(sizes, desc="fit", leave=False):
        X, y = make_data(n, n_features, rng)
        ridge = Ridge(alpha=1.0, solver="cholesky")
        ours = CuriousRegressor(alpha=1.0)
        t_ref = best_time(lambda: ridge.fit(X, y), repeat)
        t_ours = best_time(lambda: ours.fit(X, y), repeat)
        np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-6, atol=1e-8)
        rows.append({"n": n, "what": "Ridge(solver='cholesky').fit", "seconds": t_ref,
                     "ratio": 1.0, "reference": True})
        rows.append({"n": n, "what": "CuriousRegressor.fit (+ tangent, sigma^2)",
                     "seconds": t_ours, "ratio": t_ours / t_ref})
    rows.extend(mlp_fit_rows(sizes[0], n_features, repeat, rng))
    return rows


# The MLP is kept small and trained by L-BFGS for a fixed number of
# iterations (tol=0), the same budget on both sides.
MLP_KW = dict(hidden_layer_sizes=(16,), activation="tanh", solver="lbfgs", max_iter=100,
              tol=0.0, alpha=1e-3, random_state=0)


def mlp_fit_rows(n, n_features, repeat, rng):
    """MLPRegressor.fit against our training alone and our full fit (+ tangent)."""
    from sklearn.neural_network import MLPRegressor

    from sklearn_curiosity._training import train_lbfgs
    from sklearn_curiosity.models import MLP
    from sklearn_curiosity.regularizers import L2Regularizer

    X, y = make_data(n, n_features, rng)
    theirs = MLPRegressor(**MLP_KW)
    ours = CuriousRegressor(model="mlp", **MLP_KW)
    model = MLP(MLP_KW["hidden_layer_sizes"], MLP_KW["activation"])
    params0 = model.initialize(n_features, np.random.RandomState(0))
    regularizer, w = L2Regularizer(model.penalized), np.ones(n)

    def train_only():  # what CuriousRegressor.fit runs before the tangent
        return train_lbfgs(model, regularizer, MLP_KW["alpha"], X, y, w, params0,
                           MLP_KW["max_iter"], MLP_KW["tol"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the budget is fixed on purpose
        # interleaved, so that all three see the same machine state
        t_ref, t_train, t_ours = np.min([
            [best_time(func, 1) for func in (lambda: theirs.fit(X, y), train_only,
                                             lambda: ours.fit(X, y))]
            for _ in range(repeat)], axis=0)
        n_iter_train = train_only()[1]
    arch = f"{MLP_KW['hidden_layer_sizes'][0]} tanh units, L-BFGS, max_iter={MLP_KW['max_iter']}"
    return [
        {"n": n, "what": f"MLPRegressor.fit ({arch}; {theirs.n_iter_} iterations)",
         "seconds": t_ref, "ratio": 1.0, "reference": True},
        {"n": n, "what": f"CuriousRegressor(model='mlp') training only, no tangent "
                         f"({n_iter_train} iterations)",
         "seconds": t_train, "ratio": t_train / t_ref},
        {"n": n, "what": f"CuriousRegressor(model='mlp').fit (+ tangent '{ours.tangent_solver_}',"
                         f" sigma^2; {ours.n_iter_} iterations)",
         "seconds": t_ours, "ratio": t_ours / t_ref},
    ]


def mlp_pool_table(pool_sizes, n_labelled, n_features, repeat, rng):
    """influence_score against predict for the MLP, on the same pools."""
    X_lab, y_lab = make_data(n_labelled, n_features, rng)
    X_big, _ = make_data(max(pool_sizes), n_features, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = CuriousRegressor(model="mlp", **MLP_KW).fit(X_lab, y_lab)
    rows = []
    for n_pool in progress(pool_sizes, desc="mlp pool", leave=False):
        X_pool = X_big[:n_pool]
        t_predict = best_time(lambda: ours.predict(X_pool), repeat)
        t_score = best_time(lambda: influence_score(ours, X_pool), repeat)
        rows.append({"n_pool": n_pool, "what": "CuriousRegressor(model='mlp').predict",
                     "seconds": t_predict, "ratio": 1.0, "reference": True})
        rows.append({"n_pool": n_pool, "what": "influence_score (mlp)", "seconds": t_score,
                     "ratio": t_score / t_predict})
    return rows


def pool_table(pool_sizes, n_labelled, n_features, repeat, peer_budget, seed, rng):
    X_lab, y_lab = make_data(n_labelled, n_features, rng)
    X_big, _ = make_data(max(pool_sizes), n_features, rng)
    ours = CuriousRegressor(alpha=1.0).fit(X_lab, y_lab)
    t_fit = best_time(lambda: CuriousRegressor(alpha=1.0).fit(X_lab, y_lab), repeat)

    query = optional("sklearn_curiosity.query")
    runs = {
        "CuriousRegressor.predict": lambda Xp: ours.predict(Xp),
        "influence_score": lambda Xp: influence_score(ours, Xp),
        "exact influence (form H, factorize, batched H^-1 grad)":
            lambda Xp: exact_influence(ours, X_lab, Xp),
        "influence top-1 query (score + argmax)":
            lambda Xp: np.argmax(influence_score(ours, Xp)),
    }
    if query is not None:
        runs["query.influence_sampling (greedy batch of 10)"] = (
            lambda Xp: query.influence_sampling(ours, Xp, n_instances=10, batch="greedy")
        )
    peers = {"modAL max_std_sampling (GaussianProcessRegressor)":
             lambda Xp: modal_query(X_lab, y_lab, Xp, 1)}
    for name, (strategy, make_reg) in _skactiveml_peers(seed).items():
        peers[name] = (lambda s, r: lambda Xp: skactiveml_query(s, r, X_lab, y_lab, Xp, 1))(
            strategy, make_reg)

    rows, last = [], {}
    bar = progress(total=len(pool_sizes) * (len(runs) + len(peers)), desc="pool", leave=False)
    for n_pool in pool_sizes:
        X_pool = X_big[:n_pool]
        t_predict = None
        check = exact_influence(ours, X_lab, X_pool)
        np.testing.assert_allclose(influence_score(ours, X_pool), check, rtol=1e-6,
                                   atol=1e-12 * check.max())
        for name, func in list(runs.items()) + list(peers.items()):
            func(X_pool[:10])  # warm up imports and caches outside the timing
            bar.set_postfix_str(f"{name[:30]} @ {n_pool}")
            row = {"n_pool": n_pool, "what": name}
            previous = last.get(name)
            if name in peers and previous is not None:
                n_prev, t_prev, how = previous
                estimate = t_prev * n_pool / n_prev  # at least linear in the pool
                if estimate > peer_budget:
                    row["not_run"] = (
                        f"capped: one query estimated >= {estimate:.0f} s "
                        f"({how} {t_prev:.1f} s at {n_prev})" if np.isfinite(estimate)
                        else f"not run: out of memory at {n_prev}")
                    rows.append(row)
                    last[name] = (n_pool, estimate, "estimated")
                    bar.update()
                    continue
            try:
                t = best_time(lambda: func(X_pool), repeat, budget=peer_budget / 4)
            except MemoryError as exc:  # e.g. a dense candidates x samples matrix
                row["not_run"] = f"out of memory: {exc}"
                rows.append(row)
                last[name] = (n_pool, float("inf"), "estimated")
                bar.update()
                continue
            last[name] = (n_pool, t, "took")
            if t_predict is None:  # the first run, predict, is the reference
                t_predict, row["reference"] = t, True
            row.update(seconds=t, ratio=t / t_predict)
            rows.append(row)
            bar.update()
    bar.close()
    return rows, {"n_labelled": n_labelled, "fit_seconds_labelled": t_fit}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--n-labelled", type=int, default=200)
    parser.add_argument("--pool-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--fit-sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-budget", type=float, default=60.0,
                        help="seconds: a peer is not run at a pool size where it would take longer")
    parser.add_argument("--no-mlp", dest="mlp", action="store_false",
                        help="leave out the MLP rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.pool_sizes, args.fit_sizes, args.repeat = [20, 40], [200], 1
        args.n_labelled, args.n_features, args.peer_budget = 30, 5, 1.0

    rng = np.random.default_rng(args.seed)
    config = {k: v for k, v in vars(args).items() if k != "json"}
    config["json"] = None
    fit_rows = fit_table(args.fit_sizes, args.n_features, args.repeat, rng)
    pool_rows, extra = pool_table(args.pool_sizes, args.n_labelled, args.n_features,
                                  args.repeat, args.peer_budget, args.seed, rng)
    result = {"config": {**config, **extra}, "machine": machine_info(),
              "fit": fit_rows, "pool": pool_rows}
    if args.mlp:
        result["mlp_pool"] = mlp_pool_table(args.pool_sizes, args.n_labelled, args.n_features,
                                            args.repeat, rng)
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def print_tables(result):
    for key, size in (("fit", "n"), ("pool", "n_pool"), ("mlp_pool", "n_pool")):
        if key not in result:
            continue
        print(f"\n{key}: seconds (ratio to the reference)")
        for row in result[key]:
            value = (f"{row['seconds']:10.4f}  x{row['ratio']:.2f}" if "seconds" in row
                     else f"not run: {row['not_run']}")
            print(f"{row[size]:>8}  {row['what']:<58} {value}")


if __name__ == "__main__":
    main()
