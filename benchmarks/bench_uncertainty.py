"""Cost of the predictive std for the linear model, measured side by side.

``predict(X, return_std=True)`` (one triangular solve per row chunk with the
fit's Cholesky factor) against plain ``predict`` on the same pool. Each timing
is the best of ``--repeat`` runs, the two sides interleaved. The std costs
O(p^2) per row (the triangular solve) against predict's O(p), so the ratio
grows with ``--n-features``. Run:

    python benchmarks/bench_uncertainty.py
"""

import argparse

import numpy as np
from _common import interleaved

from sklearn_curiosity import CuriousRegressor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-pool", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_samples, args.n_features))
    y = X @ rng.normal(size=args.n_features) + rng.normal(size=args.n_samples)
    X_pool = rng.normal(size=(args.n_pool, args.n_features))
    reg = CuriousRegressor(alpha=1.0).fit(X, y)

    t_std, t_predict = interleaved(
        lambda: reg.predict(X_pool, return_std=True), lambda: reg.predict(X_pool), args.repeat
    )
    print(f"fit n={args.n_samples}, p={args.n_features}, pool={args.n_pool}, best of {args.repeat}")
    print(f"{'what':<44}{'seconds':>10}{'ratio':>8}")
    print(f"{'CuriousRegressor.predict':<44}{t_predict:>10.4f}{1.0:>8.2f}")
    print(f"{'CuriousRegressor.predict(return_std=True)':<44}{t_std:>10.4f}{t_std / t_predict:>8.2f}")
    return t_std / t_predict


if __name__ == "__main__":
    main()
