"""Scoring a pool against its floor: one pass over the pool.

The floor of scoring a pool is the one product every method needs: for the
linear model ``pool @ w``, one matrix-vector product; for a network ``pool @
W1``, the first layer's product. Both are taken in the pool's own dtype
(float32 or float64). Printed, as ratios to the floor measured side by side
(interleaved runs, best of ``--repeat``, BLAS on one thread):

1. ``predict``, ``regularity_sensitivity``, ``influence_score`` (unlabelled
   and labelled) and, for the linear model, ``predict(return_std=True)``,
   ``influence_score(uncertainty="epistemic")`` and scikit-learn's
   ``Ridge.predict``, for float32 and float64 pools, the
   linear model and networks (32,) and (64, 64), at each ``--rows``;
   for the networks, first the arithmetic: the multiply-adds per row of
   ``f`` and of ``f`` with ``g`` (forward mode), against the floor's, and the
   lower bound ``2 f`` of any exact method for both;
2. ``n_jobs`` scaling: ``influence_score`` with ``n_jobs=k`` against
   ``n_jobs=1`` on a float32 pool, for k up to the core count;
3. the chunk-size sweep: ``influence_score`` under ``working_memory`` from
   16 MB to 1 GB, against the best of them;
4. the block-size sweep: ``_chunking.CACHE_BLOCK_BYTES`` from 64 KiB to
   16 MiB, against the best of them.

The linear model is fitted on 2,000 rows, the networks on 300 for 20 L-BFGS
iterations (their accuracy does not change the cost of scoring). Timings on a loaded
machine are noisy: the load average is printed with the results. Run:

    python benchmarks/bench_floor.py                      # 1M rows
    python benchmarks/bench_floor.py --rows 1000000 10000000
    python benchmarks/bench_floor.py --quick              # 100k rows, seconds
    python benchmarks/bench_floor.py --only jobs          # one section
    python benchmarks/bench_floor.py --models linear --rows 10000000 --only ratios
    python benchmarks/bench_floor.py --clock cpu          # on a loaded machine
    python benchmarks/bench_floor.py --json floor.json    # and the rows as JSON
"""

import argparse
import json
import os
import warnings
from unittest import mock

import numpy as np
import time
from pathlib import Path

from _common import best_time, machine_info
from sklearn import config_context, get_config
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from sklearn_curiosity import CuriousRegressor, _chunking, _fitting

N_FEATURES = 50
MODELS = {"linear": {}, "mlp (32,)": {"hidden_layer_sizes": (32,)},
          "mlp (64, 64)": {"hidden_layer_sizes": (64, 64)}}


def make_pool(n_rows, n_features, dtype, seed=0):
    """A standard normal pool built in blocks (no float64 copy of a float32 pool)."""
    rng = np.random.default_rng(seed)
    pool = np.empty((n_rows, n_features), dtype=dtype)
    for start in range(0, n_rows, 1_000_000):
        block = pool[start : start + 1_000_000]
        block[...] = rng.standard_normal(block.shape, dtype=dtype)
    return pool


class _NoLaplace:
    """Stands in for the networks' Gauss-Newton factor, which no timed call uses."""

    effective_dof = 0.0

    def __init__(self, *args, **kwargs):
        pass

    def solve(self, rhs):
        # The identity: an unpreconditioned "cg" tangent.
        return rhs

    def release_unfactorized(self):
        pass


def fit_models(n_features, models=MODELS):
    """The linear model on 2,000 rows; the networks on 300, cheaply (see below)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, n_features))
    y = X @ rng.standard_normal(n_features) / np.sqrt(n_features) + np.tanh(X[:, 0])
    y += 0.1 * rng.standard_normal(2000)
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, params in models.items():
            if name == "linear":
                reg = CuriousRegressor(alpha=1.0).fit(X, y)
                ridge = Ridge(alpha=1.0).fit(X, y)
            else:
                # Scoring costs the same whatever the weights: 20 L-BFGS steps,
                # a 20-step CG tangent, and no Laplace factor (its dof and CG
                # cost minutes at 7,000 parameters, and no timed call uses it).
                with mock.patch.object(_fitting, "GaussNewtonCovariance", _NoLaplace):
                    reg = CuriousRegressor(
                        "mlp", alpha=1.0, max_iter=20, random_state=0,
                        tangent_solver="cg", tangent_options={"maxiter": 20}, **params,
                    ).fit(X[:300], y[:300])
                ridge = None
            fitted[name] = (reg, ridge)
    return fitted


def floor_of(reg, pool):
    """The one product every scoring call needs, in the pool's dtype."""
    if reg.model == "linear":
        w = reg.coef_.astype(pool.dtype)
        return lambda: pool @ w
    W1 = reg._model.unpack(reg.params_)[0][0].astype(pool.dtype)
    return lambda: pool @ W1


# The clock of the single-thread sections: wall time, or this process's CPU
# time (--clock cpu), which other processes on a loaded machine inflate less.
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = CLOCK["wall"]


def timed(func):
    start = _clock()
    func()
    return _clock() - start


def ratio_rows(reg, ridge, pool, y_pool, repeat):
    floor = floor_of(reg, pool)
    calls = {
        "predict": lambda: reg.predict(pool),
        "regularity_sensitivity": lambda: reg.regularity_sensitivity(pool),
        "influence_score": lambda: reg.influence_score(pool),
        "influence_score(y)": lambda: reg.influence_score(pool, y_pool),
    }
    if ridge is not None:
        calls["predict(return_std)"] = lambda: reg.predict(pool, return_std=True)
        calls["influence_score(epist.)"] = lambda: reg.influence_score(
            pool, uncertainty="epistemic")
        calls["Ridge.predict"] = lambda: ridge.predict(pool)
    rows = {}
    floor_times = {name: [] for name in calls}
    call_times = {name: [] for name in calls}
    for _ in range(repeat):  # interleaved: each call beside its own floor
        for name, call in calls.items():
            floor_times[name].append(timed(floor))
            call_times[name].append(timed(call))
    for name in calls:
        rows[name] = (min(call_times[name]), min(floor_times[name]))
    return rows


def multiply_adds(reg):
    """Per-row multiply-adds of a network's exact f, and of f with g, and the floor's.

    The floor multiplies a row by ``W1``. ``f`` multiplies each layer's
    input by its weights. Forward mode adds, for ``g = grad f . tau``, the
    row times ``tau``'s ``dW1`` and, at each later layer, the activations'
    tangents times ``W`` and the activations times ``dW``; no exact method
    needs fewer than ``f``'s count again for ``g`` (it is a product through
    every layer), the bound the issue states.
    """
    shapes = reg._model.shapes
    floor = shapes[0][0] * shapes[0][1]
    f = sum(fan_in * fan_out for fan_in, fan_out in shapes)
    forward = f + floor + 2 * sum(fan_in * fan_out for fan_in, fan_out in shapes[1:])
    return floor, f, forward


def print_bounds(fitted):
    print("\n## Arithmetic of the networks' calls, in multiply-adds per row (ratio to the floor's)")
    print(f"{'model':>13} {'floor':>7} {'f':>13} {'f and g':>14} {'bound f and g':>14} "
          f"{'(f and g) / f':>14}")
    for name, (reg, _) in fitted.items():
        if reg.model == "linear":
            continue
        floor, f, forward = multiply_adds(reg)
        print(f"{name:>13} {floor:>7} {f:>7} ({f / floor:.2f}) {forward:>7} "
              f"({forward / floor:.2f}) {2 * f:>7} ({2 * f / floor:.2f}) {forward / f:>14.2f}")


def section_ratios(fitted, rows_list, repeat):
    print_bounds(fitted)
    print("\n## Ratios to the floor (one thread; floor = pool @ w, or pool @ W1 for a network)")
    print(f"{'rows':>10} {'model':>13} {'dtype':>8} {'call':>24} {'ms':>9} "
          f"{'floor ms':>9} {'ratio':>6}")
    results = []
    for n_rows in rows_list:
        for dtype in (np.float32, np.float64):
            pool = make_pool(n_rows, N_FEATURES, dtype)
            y_pool = np.random.default_rng(2).standard_normal(n_rows)
            for name, (reg, ridge) in fitted.items():
                for call, (t, floor) in ratio_rows(reg, ridge, pool, y_pool, repeat).items():
                    print(f"{n_rows:>10} {name:>13} {np.dtype(dtype).name:>8} {call:>24} "
                          f"{1e3 * t:>9.1f} {1e3 * floor:>9.1f} {t / floor:>6.2f}", flush=True)
                    results.append({"rows": n_rows, "model": name, "dtype": np.dtype(dtype).name,
                                    "call": call, "seconds": t, "floor_seconds": floor,
                                    "ratio": t / floor})
            del pool
    return results


def section_jobs(fitted, n_rows, repeat):
    n_cores = os.cpu_count() or 1
    jobs = sorted({k for k in (1, 2, 4, 8, 16, n_cores) if k <= n_cores})
    print(f"\n## n_jobs scaling: influence_score on {n_rows} x {N_FEATURES} float32, "
          f"against n_jobs=1 ({n_cores} cores)")
    print(f"{'model':>13} {'n_jobs':>6} {'ms':>9} {'speed-up':>9}")
    pool = make_pool(n_rows, N_FEATURES, np.float32)
    results = []
    for name, (reg, _) in fitted.items():
        if name == "mlp (64, 64)":
            continue
        times = {k: [] for k in jobs}
        for _ in range(repeat):
            for k in jobs:
                reg.set_params(n_jobs=k)
                times[k].append(best_time(lambda: reg.influence_score(pool), 1))
        reg.set_params(n_jobs=None)
        for k in jobs:
            print(f"{name:>13} {k:>6} {1e3 * min(times[k]):>9.1f} "
                  f"{min(times[1]) / min(times[k]):>9.2f}", flush=True)
            results.append({"rows": n_rows, "model": name, "n_jobs": k, "cores": n_cores,
                            "seconds": min(times[k]), "speedup": min(times[1]) / min(times[k])})
    return results


def _sweep(fitted, n_rows, repeat, title, settings, run_with):
    print(f"\n## {title}: influence_score on {n_rows} x {N_FEATURES}, against the best setting")
    print(f"{'model':>13} {'dtype':>8} {'setting':>10} {'ms':>9} {'/ best':>7}")
    results = []
    for dtype in (np.float32, np.float64):
        pool = make_pool(n_rows, N_FEATURES, dtype)
        for name, (reg, _) in fitted.items():
            times = {s: [] for s in settings}
            for _ in range(repeat):
                for s in settings:
                    times[s].append(
                        run_with(s, lambda: timed(lambda: reg.influence_score(pool)))
                    )
            best = min(min(t) for t in times.values())
            for s in settings:
                print(f"{name:>13} {np.dtype(dtype).name:>8} {s:>10} "
                      f"{1e3 * min(times[s]):>9.1f} {min(times[s]) / best:>7.2f}", flush=True)
                results.append({"rows": n_rows, "model": name, "dtype": np.dtype(dtype).name,
                                "setting": s, "seconds": min(times[s]),
                                "over_best": min(times[s]) / best})
        pool = None  # free it before the next dtype's pool is made
    return results


def section_chunks(fitted, n_rows, repeat):
    def run_with(mb, timed):
        with config_context(working_memory=mb):
            return timed()

    return _sweep(fitted, n_rows, repeat, "working_memory sweep (MB)", [16, 64, 256, 1024],
                  run_with)


def section_blocks(fitted, n_rows, repeat):
    def run_with(kib, timed):
        saved = _chunking.CACHE_BLOCK_BYTES
        _chunking.CACHE_BLOCK_BYTES = kib * 1024
        try:
            return timed()
        finally:
            _chunking.CACHE_BLOCK_BYTES = saved

    return _sweep(fitted, n_rows, repeat, "Block sweep (KiB per block: rows and temporaries)",
                  [64, 256, 1024, 4096, 16384], run_with)


SECTIONS = ["ratios", "jobs", "chunks", "blocks"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="pool sizes of the ratio section (default: 1M)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100k rows, two repeats")
    parser.add_argument("--only", choices=SECTIONS, nargs="+", default=SECTIONS)
    parser.add_argument("--models", choices=list(MODELS), nargs="+", default=list(MODELS))
    parser.add_argument("--clock", choices=list(CLOCK), default="wall",
                        help="of the one-thread sections (n_jobs scaling is always wall time)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    global _clock
    _clock = CLOCK[args.clock]
    if args.quick:
        args.rows, args.repeat = [100_000], 2
    info = machine_info()
    print(f"{info['CPU']}, {info['cores']} cores, {info['BLAS']}; "
          f"load average at start {info['load average at start']}; {args.clock} clock")
    fitted = fit_models(N_FEATURES, {name: MODELS[name] for name in args.models})
    sweep_rows = min(args.rows)
    result = {"config": {**vars(args), "json": None}, "machine": info,
              "defaults": {"working_memory": get_config()["working_memory"],
                           "block_kib": _chunking.CACHE_BLOCK_BYTES // 1024}}
    with threadpool_limits(1, user_api="blas"):
        if "ratios" in args.only:
            result["ratios"] = section_ratios(fitted, args.rows, args.repeat)
        if "chunks" in args.only:
            result["chunks"] = section_chunks(fitted, sweep_rows, args.repeat)
        if "blocks" in args.only:
            result["blocks"] = section_blocks(fitted, sweep_rows, args.repeat)
    if "jobs" in args.only:
        # BLAS threads as the package chooses them (one per job for its blocks).
        result["jobs"] = section_jobs(fitted, 4 * sweep_rows, args.repeat)
    result["load_average_at_end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at end: {result['load_average_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
