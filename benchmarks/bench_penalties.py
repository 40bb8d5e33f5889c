"""Cost of several regularities for the linear model, measured side by side.

- fit under K quadratic penalties (``QuadraticPenalties``: K tangent columns,
  one solve with K right-hand sides) against the default single ridge penalty
  on the same data;
- unlabelled ``influence_score`` with K regularities (their total, and one
  column each) against the single-regularity score on the same pool.

Each timing is the best of ``--repeat`` runs, the sides interleaved so that
all see the same machine state. Run:

    python benchmarks/bench_penalties.py
"""

import argparse

import numpy as np

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.regularizers import QuadraticPenalties
from _common import best_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-groups", type=int, default=5)
    parser.add_argument("--n-pool", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_samples, args.n_features))
    y = X @ rng.normal(size=args.n_features) + rng.normal(size=args.n_samples)
    X_pool = rng.normal(size=(args.n_pool, args.n_features))

    K = args.n_groups
    single = CuriousRegressor(alpha=1.0)
    groups = CuriousRegressor(
        alpha=np.linspace(0.5, 5.0, K),
        regularizer=QuadraticPenalties.feature_groups(np.arange(args.n_features) % K),
    )
    smooth = CuriousRegressor(
        alpha=[1.0, 10.0], regularizer=QuadraticPenalties.smoothness(args.n_features)
    )
    fits = {"single ridge (K=1)": single, f"feature groups (K={K})": groups,
            "smoothness (K=2)": smooth}
    times = {name: [] for name in fits}
    for _ in range(args.repeat):
        for name, reg in fits.items():
            times[name].append(best_time(lambda reg=reg: reg.fit(X, y), 1)[0])
    base = min(times["single ridge (K=1)"])
    print(f"fit, n={args.n_samples}, p={args.n_features} (best of {args.repeat}):")
    for name, t in times.items():
        print(f"  {name:28s} {min(t):8.3f} s   x{min(t) / base:5.2f}")

    scores = {
        "single (K=1)": lambda: single.influence_score(X_pool),
        f"groups total (K={K})": lambda: groups.influence_score(X_pool),
        f"groups per_regularity (K={K})": lambda: groups.influence_score(
            X_pool, per_regularity=True
        ),
    }
    times = {name: [] for name in scores}
    for _ in range(args.repeat):
        for name, func in scores.items():
            times[name].append(best_time(func, 1)[0])
    base = min(times["single (K=1)"])
    print(f"unlabelled influence_score, pool of {args.n_pool}:")
    for name, t in times.items():
        print(f"  {name:28s} {min(t):8.3f} s   x{min(t) / base:5.2f}")


if __name__ == "__main__":
    main()
