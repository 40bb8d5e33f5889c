"""Networks of 1k to 100k parameters: fit + tangent + dof + Laplace against
``MLPRegressor.fit``, side by side in one run (issue 17, item 3: target <= 3x).

Both train the same architecture (tanh) with L-BFGS for the same number of
iterations (``tol=0``: no early stop), at the same ``alpha`` (scikit-learn's
objective is ours divided by ``n_samples``). Each is timed twice, with the
default BLAS threads ("ratio": ours over theirs) and on one BLAS thread
("ratio1", in CPU time: robust on a busy machine); ours decides its threads
by product size (``blas_threads_for``) inside either limit. Ours is broken
down, as the one-thread fit runs it,
into training, the Gauss-Newton factorization (dof and predictive variance,
its route in brackets) and the exact tangent (the damping's eigenvalue
estimates, then conjugate gradients on exact Hessian-vector products,
preconditioned by the shifted Gauss-Newton factor), with the number of
Hessian-vector products the tangent took.

"dof/peer" is arithmetic, not a timing: the multiply-adds of the cheapest
exact effective dof (and Laplace factor) at that shape, over those of the
peer's training (``3 n sum(fan_in fan_out)`` per iteration). The primal
needs ``n P^2 / 2`` for ``J^T W J``, ``P^3 / 6`` for its Cholesky factor and
``P^3 / 6`` for the inverse factor whose column norms give the trace; the
dual ``P n^2 / 2 + n^3 / 3``. Where it exceeds the ratio asked for, only
BLAS-3 running at several times the peer's arithmetic rate (the peer's
small products and elementwise passes run far below peak) leaves room
for training and tangent.

    python benchmarks/bench_big_networks.py                   # (64, 64), (256,) at n = 300, 5000
    python benchmarks/bench_big_networks.py --n-samples 300   # the n = 300 rows (well under 3 min)
    python benchmarks/bench_big_networks.py --quick           # seconds (smoke test)
    python benchmarks/bench_big_networks.py --json big_networks.json  # and the rows as JSON
"""

import argparse
import contextlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from _common import machine_info
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity import _fitting


def timed(func, clock=time.perf_counter):
    start = clock()
    result = func()
    return clock() - start, result


def make_data(n_samples, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n_samples)
    return X, y


@contextlib.contextmanager
def phases_recorded(seconds):
    """Time the fit's phases where ``_fitting`` calls them (nothing runs twice)."""
    originals = {
        name: getattr(_fitting, name)
        for name in ("train_lbfgs", "GaussNewtonCovariance", "NetworkHessian", "exact_tangent")
    }

    def recording(name, func):
        def wrapper(*args, **kwargs):
            elapsed, result = timed(lambda: func(*args, **kwargs), time.process_time)
            seconds[name] = seconds.get(name, 0.0) + elapsed
            return result

        return wrapper

    for name, func in originals.items():
        setattr(_fitting, name, recording(name, func))
    try:
        yield seconds
    finally:
        for name, func in originals.items():
            setattr(_fitting, name, func)


def peer_multiply_adds(hidden, n_features, n_samples, n_iter):
    """Multiply-adds of ``n_iter`` forward and backward passes (one output)."""
    sizes = [n_features, *hidden, 1]
    products = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    # Forward, the weight gradients, and the deltas of all but the first layer.
    return n_iter * n_samples * (3 * products - sizes[0] * sizes[1])


def exact_dof_multiply_adds(n_samples, n_params):
    """Multiply-adds of the cheaper exact route to ``trace(G^-1 J^T W J)``."""
    primal = n_samples * n_params**2 / 2 + n_params**3 / 3
    dual = n_params * n_samples**2 / 2 + n_samples**3 / 3
    return min(primal, dual)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--n-samples", type=int, nargs="+", default=[300, 5000])
    parser.add_argument("--widths", type=int, nargs="+", default=None,
                        help="one network's hidden layer widths (default: (64, 64) and (256,))")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", UserWarning)  # saddles after a fixed iteration count
    if args.quick:
        cases, max_iter = [((32, 16), 300)], 20  # 673 parameters: the "cg" tangent
    else:
        networks = [tuple(args.widths)] if args.widths else [(64, 64), (256,)]
        cases = [(h, n) for h in networks for n in args.n_samples]
        max_iter = args.max_iter
    result = {"config": {**vars(args), "json": None, "max_iter": max_iter},
              "machine": machine_info(), "rows": []}
    print(f"load average {os.getloadavg()[0]:.2f}; lbfgs, {max_iter} iterations, tol=0, "
          f"alpha={args.alpha}; seconds of wall time with default threads, of CPU time on one")
    print(f"{'network':>10} {'n':>6} {'P':>6} | {'MLPRegr.':>8} {'ours':>7} {'ratio':>6} | "
          f"{'1 thread':>8} {'ours':>7} {'ratio1':>6} | {'train':>6} {'G':>6} {'route':>8} "
          f"{'tangent':>7} {'HVPs':>5} {'dof/peer':>8}")
    for hidden, n_samples in cases:
        X, y = make_data(n_samples)
        peer = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh", solver="lbfgs",
                            alpha=args.alpha,
                            max_iter=max_iter, tol=0.0, random_state=0)
        ours = CuriousRegressor(model="mlp", hidden_layer_sizes=hidden, activation="tanh",
                                alpha=args.alpha, max_iter=max_iter, tol=0.0, random_state=0)
        t_peer, _ = timed(lambda: peer.fit(X, y))
        t_ours, _ = timed(lambda: ours.fit(X, y))
        parts = {}
        with threadpool_limits(1):
            # One thread: CPU time, which other work on a busy machine inflates far less.
            t_peer_one, _ = timed(lambda: peer.fit(X, y), time.process_time)
            with phases_recorded(parts):
                t_ours_one, _ = timed(lambda: ours.fit(X, y), time.process_time)
        row = dict(
            network=str(hidden), n=n_samples, P=ours.params_.size, peer=t_peer, ours=t_ours,
            ratio=t_ours / t_peer, peer_one=t_peer_one, ours_one=t_ours_one,
            ratio_one=t_ours_one / t_peer_one, train=parts["train_lbfgs"],
            G=parts["GaussNewtonCovariance"], route=ours._laplace.method,
            # "exact" factorizes H when it builds its NetworkHessian; "cg" at the solve.
            tangent=parts["NetworkHessian"] + parts["exact_tangent"], n_hvp=ours._hessian.n_hvp,
            dof_floor=exact_dof_multiply_adds(n_samples, ours.params_.size)
            / peer_multiply_adds(hidden, X.shape[1], n_samples, peer.n_iter_),
        )
        print(f"{row['network']:>10} {n_samples:>6} {row['P']:>6} | {t_peer:>7.2f}s "
              f"{t_ours:>6.2f}s {row['ratio']:>5.2f}x | {t_peer_one:>7.2f}s {t_ours_one:>6.2f}s "
              f"{row['ratio_one']:>5.2f}x | {row['train']:>5.2f}s {row['G']:>5.2f}s "
              f"{row['route']:>8} {row['tangent']:>6.2f}s {row['n_hvp']:>5} "
              f"{row['dof_floor']:>7.2f}x   "
              f"(iterations: peer {peer.n_iter_}, ours {ours.n_iter_})", flush=True)
        result["rows"].append({
            "network": list(hidden), "n_samples": n_samples, "n_params": int(row["P"]),
            "peer_seconds": t_peer, "seconds": t_ours, "ratio": row["ratio"],
            "peer_one_thread_seconds": t_peer_one, "one_thread_seconds": t_ours_one,
            "ratio_one_thread": row["ratio_one"],
            "peer_n_iter": int(peer.n_iter_), "n_iter": int(ours.n_iter_),
            "breakdown": {"train": row["train"], "laplace": row["G"], "route": row["route"],
                          "tangent": row["tangent"], "n_hvp": int(row["n_hvp"])},
            "exact_dof_over_peer_multiply_adds": row["dof_floor"]})
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
