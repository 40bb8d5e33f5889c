"""Networks of 1k to 100k parameters: fit + tangent + dof + Laplace against
``MLPRegressor.fit``, side by side in one run (issue 17, item 3: target <= 3x).

Both train the same architecture (tanh) with L-BFGS for the same number of
iterations (``tol=0``: no early stop), at the same ``alpha`` (scikit-learn's
objective is ours divided by ``n_samples``). Ours is broken down into
training, the Gauss-Newton factorization (dof and predictive variance, its
route in brackets) and the exact tangent (conjugate gradients on exact
Hessian-vector products, preconditioned by the Gauss-Newton solve). The
ratio is the whole ``CuriousRegressor.fit`` over ``MLPRegressor.fit`` with its
default BLAS threads, "ratio1" over ``MLPRegressor.fit`` on one BLAS thread
(ours decides its threads by product size, ``blas_threads_for``).

    python benchmarks/bench_big_networks.py            # (64, 64), (256,) at n = 300, 5000
    python benchmarks/bench_big_networks.py --quick    # seconds (smoke test)
    python benchmarks/bench_big_networks.py --json big_networks.json  # and the rows as JSON
"""

import argparse
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
from sklearn_curiosity._laplace import GaussNewtonCovariance
from sklearn_curiosity._threads import blas_threads_for
from sklearn_curiosity._training import (
    ObjectiveHessianProduct,
    largest_product_flops,
    train_lbfgs,
)
from sklearn_curiosity.models import MLP
from sklearn_curiosity.regularizers import L2Regularizer
from sklearn_curiosity.tangent import NetworkHessian, exact_tangent


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def make_data(n_samples, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n_samples)
    return X, y


def breakdown(hidden, X, y, alpha, max_iter):
    """Seconds of training, Gauss-Newton factorization and tangent, as the fit runs them."""
    model = MLP(hidden, "tanh")
    params = model.initialize(X.shape[1], np.random.RandomState(0))
    regularizer = L2Regularizer(model.penalized)
    weights = np.ones(len(y))
    with blas_threads_for(largest_product_flops(model, len(y))):
        t_train, (params, n_iter) = timed(lambda: train_lbfgs(
            model, regularizer, alpha, X, y, weights, params, max_iter, 0.0
        ))
    t_laplace, laplace = timed(lambda: GaussNewtonCovariance(
        model, regularizer, alpha, X, weights, params
    ))
    hvp = ObjectiveHessianProduct(model, regularizer, alpha, X, y, weights, params)
    calls = []

    def counted(v):
        calls.append(1)
        return hvp(v)

    def tangent():
        with blas_threads_for(largest_product_flops(model, len(y))):
            hessian = NetworkHessian(counted, params.size, "cg", preconditioner=laplace)
            return exact_tangent(hessian, regularizer, params, alpha)

    t_tangent, _ = timed(tangent)
    return dict(train=t_train, laplace=t_laplace, route=laplace.method, tangent=t_tangent,
                n_hvp=len(calls), n_iter=n_iter)


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
        cases, max_iter = [((16,), 100)], 20
    else:
        networks = [tuple(args.widths)] if args.widths else [(64, 64), (256,)]
        cases = [(h, n) for h in networks for n in args.n_samples]
        max_iter = args.max_iter
    result = {"config": {**vars(args), "json": None, "max_iter": max_iter},
              "machine": machine_info(), "rows": []}
    print(f"load average {os.getloadavg()[0]:.2f}; lbfgs, {max_iter} iterations, tol=0, "
          f"alpha={args.alpha}")
    print(f"{'network':>10} {'n':>6} {'P':>6} {'MLPRegr.':>9} {'1 thread':>8} {'ours':>8} "
          f"{'ratio':>6} {'ratio1':>7} | "
          f"{'train':>7} {'G route':>16} {'tangent':>12}")
    for hidden, n_samples in cases:
        X, y = make_data(n_samples)
        peer = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh", solver="lbfgs",
                            alpha=args.alpha,
                            max_iter=max_iter, tol=0.0, random_state=0)
        ours = CuriousRegressor(model="mlp", hidden_layer_sizes=hidden, activation="tanh",
                                alpha=args.alpha, max_iter=max_iter, tol=0.0, random_state=0)
        t_peer, _ = timed(lambda: peer.fit(X, y))
        with threadpool_limits(1):
            t_peer_one, _ = timed(lambda: peer.fit(X, y))
        t_ours, _ = timed(lambda: ours.fit(X, y))
        parts = breakdown(hidden, X, y, args.alpha, max_iter)
        print(f"{str(hidden):>10} {n_samples:>6} {ours.params_.size:>6} {t_peer:>8.2f}s "
              f"{t_peer_one:>7.2f}s {t_ours:>7.2f}s {t_ours / t_peer:>5.2f}x "
              f"{t_ours / t_peer_one:>6.2f}x | {parts['train']:>6.2f}s "
              f"{parts['laplace']:>6.2f}s {parts['route']:>8} {parts['tangent']:>6.2f}s "
              f"{parts['n_hvp']:>4}hvp   (iterations: peer {peer.n_iter_}, ours {ours.n_iter_})")
        result["rows"].append({
            "network": list(hidden), "n_samples": n_samples, "n_params": int(ours.params_.size),
            "peer_seconds": t_peer, "peer_one_thread_seconds": t_peer_one, "seconds": t_ours,
            "ratio": t_ours / t_peer, "ratio_one_thread": t_ours / t_peer_one,
            "peer_n_iter": int(peer.n_iter_), "n_iter": int(ours.n_iter_),
            "breakdown": {k: v if isinstance(v, str) else float(v) for k, v in parts.items()}})
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
