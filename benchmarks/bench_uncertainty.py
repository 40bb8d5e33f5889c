"""Cost of the predictive std, measured side by side with plain predict.

``predict(X, return_std=True)`` against ``predict`` on the same pool, for the
linear model (one triangular solve per row chunk with the fit's Cholesky
factor) and for an MLP (per row chunk: the hand-written Jacobian, then one
triangular solve with the Gauss-Newton Hessian's Cholesky factor, or block
conjugate gradients on Gauss-Newton products above 1000 parameters). Each
timing is the best of ``--repeat`` runs, the two sides interleaved. The std
costs O(p^2) per row (the triangular solve) against predict's O(p), so the
ratio grows with ``--n-features`` and ``--hidden``. Run:

    python benchmarks/bench_uncertainty.py
"""

import argparse
import time
import warnings

import numpy as np
from _common import interleaved

from sklearn_curiosity import CuriousRegressor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-pool", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlp-n-samples", type=int, default=2_000)
    parser.add_argument("--mlp-n-features", type=int, default=10)
    parser.add_argument("--hidden", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--mlp-n-pool", type=int, default=100_000)
    # Above 1000 parameters the std runs block CG over the training set per
    # pool chunk (e.g. --cg-hidden 100): slow, so off by default, small pool.
    parser.add_argument("--cg-hidden", type=int, nargs="*", default=[])
    parser.add_argument("--cg-n-pool", type=int, default=2_000)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_samples, args.n_features))
    y = X @ rng.normal(size=args.n_features) + rng.normal(size=args.n_samples)
    X_pool = rng.normal(size=(args.n_pool, args.n_features))
    reg = CuriousRegressor(alpha=1.0).fit(X, y)

    t_std, t_predict = interleaved(
        lambda: reg.predict(X_pool, return_std=True), lambda: reg.predict(X_pool), args.repeat
    )
    print(f"linear: fit n={args.n_samples}, p={args.n_features}, pool={args.n_pool}, "
          f"best of {args.repeat}")
    print(f"{'what':<48}{'seconds':>10}{'ratio':>8}")
    print(f"{'CuriousRegressor.predict':<48}{t_predict:>10.4f}{1.0:>8.2f}")
    print(f"{'CuriousRegressor.predict(return_std=True)':<48}{t_std:>10.4f}"
          f"{t_std / t_predict:>8.2f}")
    ratios = {"linear": t_std / t_predict}

    X = rng.normal(size=(args.mlp_n_samples, args.mlp_n_features))
    y = np.tanh(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=args.mlp_n_samples)
    runs = [(w, args.mlp_n_pool) for w in args.hidden]
    runs += [(w, args.cg_n_pool) for w in args.cg_hidden]
    for width, n_pool in runs:
        X_pool = rng.normal(size=(n_pool, args.mlp_n_features))
        mlp = CuriousRegressor(
            "mlp", alpha=1.0, hidden_layer_sizes=(width,), max_iter=300, random_state=0
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Convergence and damping warnings do not change what is timed.
            warnings.simplefilter("ignore")
            mlp.fit(X, y)
        t_fit = time.perf_counter() - start
        t_std, t_predict = interleaved(
            lambda: mlp.predict(X_pool, return_std=True), lambda: mlp.predict(X_pool), args.repeat
        )
        p = mlp.params_.size
        print(f"mlp ({width},): fit n={args.mlp_n_samples}, d={args.mlp_n_features}, "
              f"p={p} ({mlp._laplace.method}), pool={n_pool}, fit {t_fit:.2f} s")
        print(f"{'  MLP predict':<48}{t_predict:>10.4f}{1.0:>8.2f}")
        print(f"{'  MLP predict(return_std=True)':<48}{t_std:>10.4f}{t_std / t_predict:>8.2f}")
        ratios[f"mlp{width}"] = t_std / t_predict
    return ratios

if __name__ == "__main__":
    main()
