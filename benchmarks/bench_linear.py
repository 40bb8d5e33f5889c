"""Cost of the linear model, measured side by side with scikit-learn.

- fit (coefficients, tangent, effective dof, noise variance, Laplace factor)
  against ``Ridge(alpha=1).fit`` on the same data, at the shapes users bring:
  tall (n=100,000, p=20, against ``Ridge(solver="cholesky")``) and wide
  (n < p, where both fit through the n x n dual; ``Ridge``'s "auto" solver);
- ``CuriousRegressorCV`` (closed-form leave-one-out over 10 alphas, then the
  refit) against ``RidgeCV`` on one wide shape;
- unlabelled ``influence_score`` against ``predict`` on the same rows.

Each timing is the best of ``--repeat`` runs, the two sides interleaved so
that both see the same machine state. Run:

    python benchmarks/bench_linear.py            # every shape
    python benchmarks/bench_linear.py --quick    # small shapes, seconds
    python benchmarks/bench_linear.py --json linear.json  # and the rows as JSON
"""

import argparse
import json
from pathlib import Path

import numpy as np
from _common import interleaved, machine_info
from sklearn.linear_model import Ridge, RidgeCV

from sklearn_curiosity import CuriousRegressor, CuriousRegressorCV

# (n_samples, n_features, Ridge's solver): the shapes of issue 17's table.
FIT_SHAPES = [
    (100_000, 20, "cholesky"),
    (50, 2_000, "auto"),
    (50, 5_000, "auto"),
    (200, 5_000, "auto"),
    (10, 20_000, "auto"),
]
QUICK_FIT_SHAPES = [(2_000, 20, "cholesky"), (20, 500, "auto")]
CV_SHAPE, QUICK_CV_SHAPE = (50, 5_000), (20, 500)
CV_ALPHAS = np.logspace(-2, 3, 10)


def make_data(n_samples, n_features, rng):
    X = rng.normal(size=(n_samples, n_features))
    y = X[:, : min(n_features, 50)] @ rng.normal(size=min(n_features, 50))
    return X, y + rng.normal(size=n_samples)


def time_fit(n_samples, n_features, solver, repeat, rng):
    X, y = make_data(n_samples, n_features, rng)
    ours = CuriousRegressor(alpha=1.0)
    ridge = Ridge(alpha=1.0, solver=solver)
    t_ours, t_ridge = interleaved(lambda: ours.fit(X, y), lambda: ridge.fit(X, y), repeat)
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-6, atol=1e-8)
    return t_ours, t_ridge


def time_cv(n_samples, n_features, repeat, rng):
    X, y = make_data(n_samples, n_features, rng)
    ours = CuriousRegressorCV(alphas=CV_ALPHAS)
    ridge = RidgeCV(alphas=CV_ALPHAS)
    t_ours, t_ridge = interleaved(lambda: ours.fit(X, y), lambda: ridge.fit(X, y), repeat)
    assert ours.alpha_ == ridge.alpha_
    return t_ours, t_ridge


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small shapes, for a smoke test")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    fit_shapes, cv_shape = (QUICK_FIT_SHAPES, QUICK_CV_SHAPE) if args.quick else (
        FIT_SHAPES, CV_SHAPE)
    n_pool = 2_000 if args.quick else args.n_pool
    repeat = 2 if args.quick else args.repeat
    rng = np.random.default_rng(0)
    result = {"config": {**vars(args), "json": None, "n_pool": n_pool, "repeat": repeat},
              "machine": machine_info(), "rows": []}

    def record(key, what, t_ours, t_reference, reference, **shape):
        result["rows"].append({"key": key, "what": what, "seconds": t_ours,
                               "reference": reference, "reference_seconds": t_reference,
                               "ratio": t_ours / t_reference, **shape})

    print(f"best of {repeat}, interleaved; ratio = ours / scikit-learn")
    print(f"{'what':<58}{'ours s':>10}{'sklearn s':>11}{'ratio':>8}")
    for n_samples, n_features, solver in fit_shapes:
        t_ours, t_ridge = time_fit(n_samples, n_features, solver, repeat, rng)
        what = f"fit n={n_samples:,} p={n_features:,} vs Ridge(solver={solver!r})"
        print(f"{what:<58}{t_ours:>10.4f}{t_ridge:>11.4f}{t_ours / t_ridge:>8.2f}")
        record(f"fit_{n_samples}x{n_features}", what, t_ours, t_ridge,
               f"Ridge(solver={solver!r}).fit", n_samples=n_samples, n_features=n_features)

    t_ours, t_ridge = time_cv(*cv_shape, repeat, rng)
    what = f"CV fit n={cv_shape[0]:,} p={cv_shape[1]:,}, {len(CV_ALPHAS)} alphas vs RidgeCV"
    print(f"{what:<58}{t_ours:>10.4f}{t_ridge:>11.4f}{t_ours / t_ridge:>8.2f}")
    record(f"cv_{cv_shape[0]}x{cv_shape[1]}", what, t_ours, t_ridge, "RidgeCV.fit",
           n_samples=cv_shape[0], n_features=cv_shape[1])

    X, y = make_data(2_000, 100, rng)
    ours = CuriousRegressor(alpha=1.0).fit(X, y)
    X_pool = rng.normal(size=(n_pool, 100))
    t_score, t_predict = interleaved(
        lambda: ours.influence_score(X_pool), lambda: ours.predict(X_pool), repeat
    )
    what = f"influence_score (no y) vs our predict, pool={n_pool:,} p=100"
    print(f"{what:<58}{t_score:>10.4f}{t_predict:>11.4f}{t_score / t_predict:>8.2f}")
    record("score_over_predict", what, t_score, t_predict, "CuriousRegressor.predict",
           n_samples=n_pool, n_features=100)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
