"""Leave-one-out selection of alpha: CuriousRegressorCV against RidgeCV, side by side.

Both estimators score the same grid of ``--n-alphas`` regularities by efficient
leave-one-out and refit at the chosen one; ours also computes the tangent and
the noise variance of the refitted model. A last row searches the same range
by LOO hypergradient steps. A last section (``--mlp-samples 0`` skips it)
selects the alpha of a small network by 3-fold grid and by 3-fold
hypergradient search, and counts their fits. Each timing is the best of
``--repeat`` runs, the two sides interleaved so that both see the same machine
state. Run:

    python benchmarks/bench_cv.py
"""

import argparse
import warnings

import numpy as np
from _common import best_time, interleaved
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from sklearn_curiosity import CuriousRegressorCV


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-alphas", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--weighted", action="store_true", help="use random sample weights")
    parser.add_argument("--mlp-samples", type=int, default=200,
                        help="samples of the network section (0: skip it)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_samples, args.n_features)) + rng.normal(size=args.n_features)
    y = X @ rng.normal(size=args.n_features) + 10 * rng.normal(size=args.n_samples)
    sample_weight = rng.uniform(0.5, 2.0, args.n_samples) if args.weighted else None
    alphas = np.logspace(-2, 6, args.n_alphas)

    ours = CuriousRegressorCV(alphas=alphas)
    # gcv_mode="auto" picks the eigendecomposition of X^T X for n > p, as ours does.
    ridge = RidgeCV(alphas=alphas)
    t_ours, t_ridge = interleaved(
        lambda: ours.fit(X, y, sample_weight=sample_weight),
        lambda: ridge.fit(X, y, sample_weight=sample_weight),
        args.repeat,
    )
    assert ours.alpha_ == ridge.alpha_, (ours.alpha_, ridge.alpha_)
    np.testing.assert_allclose(ours.best_score_, ridge.best_score_, rtol=1e-8)

    print(
        f"n={args.n_samples}, p={args.n_features}, {args.n_alphas} alphas, "
        f"weighted={args.weighted}, best of {args.repeat}; alpha_={ours.alpha_:.4g} (both)"
    )
    print(f"{'what':<48}{'seconds':>10}{'ratio':>8}")
    print(f"{'RidgeCV.fit (LOO)':<48}{t_ridge:>10.4f}{1.0:>8.2f}")
    print(f"{'CuriousRegressorCV.fit (LOO, refit with tangent)':<48}{t_ours:>10.4f}"
          f"{t_ours / t_ridge:>8.2f}")

    # The same range searched by LOO hypergradient steps instead of the grid.
    search = CuriousRegressorCV(alphas=alphas, alpha_search="hypergradient")
    t_search = best_time(lambda: search.fit(X, y, sample_weight=sample_weight), args.repeat)
    print(f"{'CuriousRegressorCV.fit (LOO, hypergradient)':<48}{t_search:>10.4f}"
          f"{t_search / t_ridge:>8.2f}")
    print(f"hypergradient: alpha_={search.alpha_:.4g} after {search.n_fits_} LOO evaluations "
          f"(grid: {ours.n_fits_}); best_score_ {search.best_score_:.6g} "
          f"vs grid {ours.best_score_:.6g}")
    if args.mlp_samples:
        mlp_section(args.mlp_samples)
    return t_ours / t_ridge


def mlp_section(n_samples):
    """3-fold selection of a network's alpha: grid against hypergradient search."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(n_samples, 2))
    y = 2 * np.sin(2 * X[:, 0]) + X[:, 1] + 1.5 * rng.normal(size=n_samples)
    grid = np.logspace(-2, 2, 17)
    params = dict(model="mlp", hidden_layer_sizes=(8,), tol=1e-8, max_iter=3000,
                  random_state=0, warm_start=True, cv=3)
    grid_search = CuriousRegressorCV(alphas=grid, **params)
    gradient_search = CuriousRegressorCV(alphas=grid, alpha_search="hypergradient",
                                         alpha=grid[-1], search_tol=0.1, **params)
    # One BLAS thread: L-BFGS on a few dozen parameters is otherwise dominated
    # by thread start-up on a busy machine.
    # The largest alphas shrink hidden units to zero (a singular, damped
    # Hessian): counted, not printed one by one.
    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t_grid = best_time(lambda: grid_search.fit(X, y), 1)
        t_gradient = best_time(lambda: gradient_search.fit(X, y), 1)
    spacing = np.log10(grid[1] / grid[0])
    print(f"MLP (8 hidden units), n={n_samples}, 3-fold, {len(grid)} alphas "
          f"({spacing:.2f} decades apart), one run each:")
    print(f"{'what':<48}{'seconds':>10}{'fits':>8}")
    print(f"{'grid search':<48}{t_grid:>10.3f}{grid_search.n_fits_:>8}")
    print(f"{'hypergradient search':<48}{t_gradient:>10.3f}{gradient_search.n_fits_:>8}")
    print(f"alpha_: grid {grid_search.alpha_:.4g} (score {grid_search.best_score_:.5g}), "
          f"hypergradient {gradient_search.alpha_:.4g} (score {gradient_search.best_score_:.5g}); "
          f"{len(caught)} warnings")


if __name__ == "__main__":
    main()
