"""Cost of the tangent for the linear model, measured side by side.

- fit (coefficients, tangent, noise variance) against
  ``Ridge(solver="cholesky").fit`` on the same data;
- unlabelled ``influence_score`` against ``predict`` on the same rows.

Each timing is the best of ``--repeat`` runs, the two sides interleaved so
that both see the same machine state. Run:

    python benchmarks/bench_linear.py
"""

import argparse

import numpy as np
from _common import interleaved
from sklearn.linear_model import Ridge

from sklearn_curiosity import CuriousRegressor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-pool", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_samples, args.n_features))
    y = X @ rng.normal(size=args.n_features) + rng.normal(size=args.n_samples)
    X_pool = rng.normal(size=(args.n_pool, args.n_features))

    ours = CuriousRegressor(alpha=1.0)
    ridge = Ridge(alpha=1.0, solver="cholesky")
    t_ours, t_ridge = interleaved(lambda: ours.fit(X, y), lambda: ridge.fit(X, y), args.repeat)
    np.testing.assert_allclose(ours.coef_, ridge.coef_, atol=1e-8)
    t_score, t_predict = interleaved(
        lambda: ours.influence_score(X_pool), lambda: ours.predict(X_pool), args.repeat
    )

    print(f"n={args.n_samples}, p={args.n_features}, pool={args.n_pool}, best of {args.repeat}")
    print(f"{'what':<44}{'seconds':>10}{'ratio':>8}")
    print(f"{'Ridge(solver=cholesky).fit':<44}{t_ridge:>10.4f}{1.0:>8.2f}")
    print(f"{'CuriousRegressor.fit (with tangent, sigma^2)':<44}{t_ours:>10.4f}{t_ours / t_ridge:>8.2f}")
    print(f"{'CuriousRegressor.predict':<44}{t_predict:>10.4f}{1.0:>8.2f}")
    print(f"{'CuriousRegressor.influence_score (no y)':<44}{t_score:>10.4f}{t_score / t_predict:>8.2f}")
    return t_ours / t_ridge, t_score / t_predict


if __name__ == "__main__":
    main()
