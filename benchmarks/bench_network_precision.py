"""A network's float32 scores against float64, and what more accuracy would cost.

With ``precision="auto"`` a float32 pool is scored in float32: the first
layer's products with ``W1`` and with the tangent's ``dW1`` are float32 sums,
and the activations, slopes and tangents after them are float32 too. Printed:

1. accuracy, on scikit-learn's bundled diabetes and breast cancer sets
   (standardized; networks (16,) and (8, 8), ``--fits`` fits each): the
   largest ``|float32 - float64| / (|float64| + rms)`` of ``predict``,
   ``regularity_sensitivity`` and ``influence_score``, and their 99th
   percentile of the plain relative error;
2. the alternative of a float64-accumulated first layer (the block cast to
   float64 in cache, the rest float32): its largest error on the same fits,
   and its cost against the float32 path, both as ratios to the floor ``pool
   @ W1`` in float32 (one thread, 1M x 50, networks (32,) and (64, 64) as in
   bench_floor.py).

Run:

    python benchmarks/bench_network_precision.py
    python benchmarks/bench_network_precision.py --fits 2 --rows 200000   # quicker
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _common import machine_info
from bench_floor import MODELS, N_FEATURES, fit_models, make_pool
from sklearn_curiosity import CuriousRegressor


def real_data(name):
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    else:
        X, _ = load_breast_cancer(return_X_y=True)
        # The mean area from the other 29 measurements (as tests/test_precision.py).
        X, y = np.delete(X, 3, axis=1), X[:, 3]
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def float64_first_layer(evaluate):
    """The float32 path of ``evaluate`` with its first layer summed in float64."""
    layers32, layers64 = evaluate.layers[np.float32], evaluate.layers[np.float64]
    first = layers64[0]

    def call(X):
        X64 = X.astype(np.float64)
        a = first.b.add_to(X64 @ first.W).astype(np.float32)
        tangents = [db.add_to(X64 @ dW).astype(np.float32)
                    for dW, db in zip(first.dWs, first.dbs)]
        evaluate._activate(a, tangents)
        return evaluate._after_first_layer(a, tangents, layers32, np.float32)

    return call


def errors(got, exact):
    scale = np.sqrt(np.mean(exact**2))
    error = np.abs(got - exact)
    return np.max(error / (np.abs(exact) + scale)), np.quantile(error / np.abs(exact), 0.99)


def section_accuracy(n_fits):
    print("\n## float32 against float64: max |error| / (|exact| + rms), and the 99th "
          "percentile of |error| / |exact|")
    print(f"{'data':>14} {'hidden':>7} {'call':>23} {'max / scale':>12} {'q99 rel':>9} "
          f"{'f64 layer 1':>12}")
    for dataset in ["diabetes", "breast_cancer"]:
        X, y = real_data(dataset)
        pool32 = X.astype(np.float32)
        pool64 = pool32.astype(np.float64)
        for hidden in [(16,), (8, 8)]:
            worst = {}
            for seed in range(n_fits):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reg = CuriousRegressor("mlp", alpha=1.0, hidden_layer_sizes=hidden,
                                           max_iter=100, random_state=seed).fit(X, y)
                for call in ["predict", "regularity_sensitivity", "influence_score"]:
                    got, exact = getattr(reg, call)(pool32), getattr(reg, call)(pool64)
                    scaled, q99 = errors(got, exact)
                    old = worst.get(call, (0.0, 0.0, np.nan))
                    worst[call] = (max(old[0], scaled), max(old[1], q99), old[2])
                evaluate = reg._evaluator(prediction=False)
                g = float64_first_layer(evaluate)(pool32)[1]
                scaled = errors(g, reg.regularity_sensitivity(pool64))[0]
                old = worst["regularity_sensitivity"]
                worst["regularity_sensitivity"] = old[:2] + (np.nanmax([old[2], scaled]),)
            for call, (scaled, q99, first64) in worst.items():
                print(f"{dataset:>14} {str(hidden):>7} {call:>23} {scaled:>12.1e} {q99:>9.1e} "
                      f"{first64:>12.1e}", flush=True)


def section_cost(n_rows, repeat):
    print(f"\n## Cost on {n_rows} x {N_FEATURES} float32 (one thread, CPU clock), ratio to the "
          "float32 floor pool @ W1: regularity_sensitivity's pass, float32 or float64 layer 1")
    print(f"{'model':>13} {'float32':>8} {'f64 layer 1':>12}")
    pool = make_pool(n_rows, N_FEATURES, np.float32)
    fitted = fit_models(N_FEATURES, {k: MODELS[k] for k in ["mlp (32,)", "mlp (64, 64)"]})
    for name, (reg, _) in fitted.items():
        evaluate = reg._evaluator(prediction=False)
        variant = float64_first_layer(evaluate)
        W1 = reg._model.unpack(reg.params_)[0][0].astype(np.float32)

        def blocks(func):
            for start in range(0, n_rows, 1024):
                func(pool[start : start + 1024])

        calls = {"floor": lambda: pool @ W1, "float32": lambda: blocks(evaluate),
                 "f64 layer 1": lambda: blocks(variant)}
        times = {key: [] for key in calls}
        with threadpool_limits(1, user_api="blas"):
            for _ in range(repeat):
                for key, call in calls.items():
                    start = time.process_time()
                    call()
                    times[key].append(time.process_time() - start)
        floor = min(times["floor"])
        print(f"{name:>13} {min(times['float32']) / floor:>8.2f} "
              f"{min(times['f64 layer 1']) / floor:>12.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=4, help="fits per data set and network")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    info = machine_info()
    print(f"{info['CPU']}, {info['cores']} cores, {info['BLAS']}; "
          f"load average at start {info['load average at start']}")
    section_accuracy(args.fits)
    section_cost(args.rows, args.repeat)


if __name__ == "__main__":
    main()
