"""Scaling of HierarchicalCuriousRegressor in the number of users.

Fit plus both regularity tangents (and the effective dof, noise variance)
for U users with p features each (``--samples-per-user`` rows per user), at
several U. The Hessian is solved by blocks, so time and memory should grow
linearly in U; the table reports both and their ratio to the smallest U.
Peak memory is the peak of Python allocations during the fit (tracemalloc,
which numpy reports to), on top of the data themselves.

For reference, the last table times the dense alternative at small U: the
fit and the two tangents by ``np.linalg.solve`` on the assembled
((U+1) q)^2 Hessian, cubic in U, against the block solve on the same data.

    python benchmarks/bench_hierarchical.py
"""

import argparse

import numpy as np
from _common import best_time, traced_peak

from sklearn_curiosity import HierarchicalCuriousRegressor


def make_data(n_users, n_features, samples_per_user, rng):
    groups = np.repeat(np.arange(n_users), samples_per_user)
    X = rng.normal(size=(len(groups), n_features))
    shared = rng.normal(size=n_features)
    own = shared + 0.3 * rng.normal(size=(n_users, n_features))
    y = np.sum(X * own[groups], axis=1) + rng.normal(size=len(groups))
    return X, y, groups


def measure(X, y, groups, repeat):
    def fit():
        return HierarchicalCuriousRegressor(alpha=1.0, deviation_alpha=1.0).fit(X, y, groups)

    seconds = best_time(fit, repeat)
    peak, reg = traced_peak(fit)
    assert reg.tangent_.shape == (len(reg.params_), 2)
    return seconds, peak


def dense_fit(X, y, groups):
    """Fit and tangents with the dense Hessian (the alternative the block solve avoids)."""
    users = np.unique(groups)
    phi = np.column_stack([X, np.ones(len(X))])
    q = phi.shape[1]
    Z = np.zeros((len(X), (len(users) + 1) * q))
    Z[:, :q] = phi
    Z[
        np.arange(len(X))[:, None], q + np.searchsorted(users, groups)[:, None] * q + np.arange(q)
    ] = phi
    H = Z.T @ Z
    H[np.arange(q - 1), np.arange(q - 1)] += 1.0
    H[np.arange(q, len(H)), np.arange(q, len(H))] += 1.0
    params = np.linalg.solve(H, Z.T @ y)
    b = np.zeros((len(H), 2))
    b[: q - 1, 0] = params[: q - 1]
    b[q:, 1] = params[q:]
    return params, -np.linalg.solve(H, b)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--samples-per-user", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dense-users", type=int, nargs="*", default=[25, 50, 100, 200])
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    print(
        f"fit + 2 tangents, p={args.n_features} features "
        f"(q={args.n_features + 1} parameters per user), "
        f"{args.samples_per_user} samples per user, best of {args.repeat}"
    )
    print(
        f"{'users':>6} {'n_params':>9} {'samples':>8} {'time (s)':>9} {'peak MB':>8} "
        f"{'time/U ratio':>13} {'mem/U ratio':>12}"
    )
    first = None
    for n_users in args.users:
        X, y, groups = make_data(n_users, args.n_features, args.samples_per_user, rng)
        seconds, peak = measure(X, y, groups, args.repeat)
        per_user = (seconds / n_users, peak / n_users)
        first = first or per_user
        print(
            f"{n_users:>6} {(n_users + 1) * (args.n_features + 1):>9} {len(y):>8} "
            f"{seconds:>9.4f} {peak / 2**20:>8.1f} {per_user[0] / first[0]:>13.2f} "
            f"{per_user[1] / first[1]:>12.2f}"
        )
    print("(ratios: per-user cost relative to the smallest U; 1.0 = linear growth)")

    if args.dense_users:
        print("\nblock solve against the dense solve, fit + 2 tangents (best of 3)")
        header = ("users", "block (s)", "dense (s)", "dense/block", "max |diff|")
        print(" ".join(f"{name:>{width}}" for name, width in zip(header, (6, 10, 10, 12, 11))))
    for n_users in args.dense_users:
        X, y, groups = make_data(n_users, args.n_features, args.samples_per_user, rng)
        block_seconds, _ = measure(X, y, groups, 3)
        dense_seconds = best_time(lambda: dense_fit(X, y, groups), 3)
        params, tangent = dense_fit(X, y, groups)
        reg = HierarchicalCuriousRegressor(alpha=1.0, deviation_alpha=1.0).fit(X, y, groups)
        diff = max(np.abs(reg.params_ - params).max(), np.abs(reg.tangent_ - tangent).max())
        print(
            f"{n_users:>6} {block_seconds:>10.4f} {dense_seconds:>10.4f} "
            f"{dense_seconds / block_seconds:>12.1f} {diff:>11.1e}"
        )


if __name__ == "__main__":
    main()
