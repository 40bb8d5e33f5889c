"""Peak memory and time of scoring a large float32 pool, with and without chunking.

A model fitted on 2,000 labelled rows scores a pool of ``--n-rows`` x
``--n-features`` float32 candidates (10,000,000 x 50 by default: the pool
itself takes 2 GB). Each configuration runs in a fresh subprocess that builds
the pool, then calls ``influence_score`` and ``regularity_sensitivity`` under
``sklearn.config_context(working_memory=...)``. Reported per call:

- peak traced allocations beyond the pool (tracemalloc sees every numpy
  buffer: the float64 copy of a chunk, products, outputs);
- peak resident memory of the process beyond its resident size once the pool
  was built (``resource.getrusage``), which also counts BLAS buffers;
- wall time.

``working_memory=1e6`` MB puts the whole pool in one chunk: the unchunked
path. Run:

    python benchmarks/bench_large_pool.py
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

CONFIGS = [  # (working_memory in MB, n_jobs)
    (1e6, None),
    (1024, None),
    (64, None),
    (64, 2),
]


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _reset_peak_rss():
    # Linux >= 4.0: writing 5 to clear_refs resets the high-water mark, so each
    # call's peak is its own (getrusage's ru_maxrss cannot be reset).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n_rows, n_features, working_memory, n_jobs):
    from sklearn import config_context

    from sklearn_curiosity import CuriousRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, n_features))
    y = X @ rng.standard_normal(n_features) + rng.standard_normal(2000)
    reg = CuriousRegressor(alpha=1.0, n_jobs=n_jobs).fit(X, y)
    pool = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, 1_000_000):  # no float64 pool, ever
        block = pool[start : start + 1_000_000]
        block[...] = rng.standard_normal(block.shape, dtype=np.float32)
    results = {}
    for name in ["influence_score", "regularity_sensitivity"]:
        method = getattr(reg, name)
        rss_before = _rss_mb()
        _reset_peak_rss()
        tracemalloc.start()
        start = time.perf_counter()
        with config_context(working_memory=working_memory):
            scores = method(pool)
        elapsed = time.perf_counter() - start
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[name] = {
            "seconds": elapsed,
            "traced_peak_mb": traced_peak / 2**20,
            "rss_peak_beyond_pool_mb": _peak_rss_mb() - rss_before,
            "checksum": float(np.sum(scores, dtype=np.float64)),
        }
        del scores
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, default=10_000_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        working_memory, n_jobs = float(args.one[0]), json.loads(args.one[1])
        print(json.dumps(run_one(args.n_rows, args.n_features, working_memory, n_jobs)))
        return

    pool_mb = args.n_rows * args.n_features * 4 / 2**20
    print(f"pool: {args.n_rows} x {args.n_features} float32 = {pool_mb:.0f} MB")
    print(
        f"{'working_memory':>15} {'n_jobs':>6} {'call':>23} {'time s':>8} "
        f"{'traced MB':>10} {'RSS MB':>8}"
    )
    checksums = {}
    for working_memory, n_jobs in CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--n-rows", str(args.n_rows),
             "--n-features", str(args.n_features),
             "--one", str(working_memory), json.dumps(n_jobs)],
            check=True, capture_output=True, text=True,
        )
        results = json.loads(out.stdout.strip().splitlines()[-1])
        for name, r in results.items():
            checksums.setdefault(name, set()).add(r["checksum"])
            label = "unchunked" if working_memory >= 1e6 else f"{working_memory:g} MB"
            print(
                f"{label:>15} {str(n_jobs):>6} {name:>23} {r['seconds']:8.2f} "
                f"{r['traced_peak_mb']:10.0f} {r['rss_peak_beyond_pool_mb']:8.0f}"
            )
    same = all(len(v) == 1 for v in checksums.values())
    print(f"identical scores across configurations: {same}")


if __name__ == "__main__":
    main()
