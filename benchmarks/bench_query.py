"""Query strategies on a large pool: time and peak memory, side by side.

A CuriousRegressor fitted on 2,000 labelled points scores and queries a pool of
``--n-pool`` candidates (default 1,000,000) x ``--n-features`` (default 50):

- ``predict`` on the pool (the reference: one matrix-vector product);
- ``influence_sampling`` top-k (k=10) and greedy batch (k=10);
- ``variance_sampling`` (chunked per scikit-learn's ``working_memory``);
- ``greedy_sampling_x`` (GSx, chunked pairwise distances; k=10).

Each row reports the best wall time of ``--repeat`` runs and the peak of the
memory the call allocates beyond the pool itself (``tracemalloc``, which sees
numpy's buffers), then the process's peak resident set size. The chunked
strategies size their chunks by scikit-learn's ``working_memory``
(``--working-memory``, MiB). Run:

    python benchmarks/bench_query.py
    python benchmarks/bench_query.py --working-memory 64
"""

import argparse
import resource

import numpy as np
from _common import best_time, traced_peak
from sklearn import config_context

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.query import (
    greedy_sampling_x,
    influence_sampling,
    variance_sampling,
)


def measure(func, repeat):
    """Best wall time over ``repeat`` runs, and the peak extra memory of one run."""
    return best_time(func, repeat), traced_peak(func)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--n-labelled", type=int, default=2_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--working-memory", type=int, default=None,
        help="scikit-learn's working_memory in MiB, which sizes the chunks (default 1024)",
    )
    args = parser.parse_args(argv)
    with config_context(working_memory=args.working_memory):
        run(args)


def run(args):

    rng = np.random.RandomState(0)
    coef = rng.normal(size=args.n_features)
    X = rng.normal(size=(args.n_labelled, args.n_features))
    y = X @ coef + 0.5 * rng.normal(size=args.n_labelled)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    X_pool = rng.normal(size=(args.n_pool, args.n_features))
    k = args.k

    cases = [
        ("predict (reference)", lambda: reg.predict(X_pool)),
        (f"influence_sampling top-{k}", lambda: influence_sampling(reg, X_pool, k)),
        (
            f"influence_sampling greedy k={k}",
            lambda: influence_sampling(reg, X_pool, k, batch="greedy"),
        ),
        (f"variance_sampling top-{k}", lambda: variance_sampling(reg, X_pool, k)),
        (f"greedy_sampling_x k={k}", lambda: greedy_sampling_x(reg, X_pool, k, X_labelled=X)),
    ]
    pool_mb = X_pool.nbytes / 2**20
    print(
        f"pool {args.n_pool:,} x {args.n_features} float64 ({pool_mb:.0f} MiB), "
        f"{args.n_labelled:,} labelled, best of {args.repeat}"
    )
    print(f"{'call':34s} {'time (s)':>9s} {'x predict':>10s} {'peak extra (MiB)':>17s}")
    reference = None
    for name, func in cases:
        seconds, peak = measure(func, args.repeat)
        reference = reference or seconds
        print(f"{name:34s} {seconds:9.3f} {seconds / reference:10.1f} {peak / 2**20:17.1f}")
    # ru_maxrss is in KiB on Linux.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"process peak resident set size: {maxrss:.0f} MiB")


if __name__ == "__main__":
    main()
