"""Cost of curiosity for the MLP, measured side by side in one run.

1. mini-batch training with the "forward" tangent carried along against the
   same training with the tangent off (target <= 2x);
2. CuriousRegressor(model="mlp").fit against sklearn's MLPRegressor, same
   architecture (tanh), solver and iteration count (target <= 1.5x): adam for
   20 epochs, lbfgs for 20 and 200 iterations;
3. regularity_sensitivity on 100,000 rows against predict (target <= 3x);
4. hand-written Hessian-vector product against autograd's at p ~ 1,000
   (target >= 20x faster);
5. the exact tangent's dense Hessian: the one-hidden-layer closed form
   against the identity block of Hessian-vector products.

Each timing is the best of ``--repeat`` runs. Run:

    python benchmarks/bench_mlp.py            # the issue's sizes
    python benchmarks/bench_mlp.py --quick    # tiny sizes, seconds (smoke test)
"""

import argparse
import warnings

import numpy as np
from _common import best_time
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity._training import train_lbfgs, train_minibatch
from sklearn_curiosity.models import MLP
from sklearn_curiosity.regularizers import L2Regularizer


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", UserWarning)  # damping at saddles after 20 iterations
    rng = np.random.RandomState(0)
    n, d, hidden = (300, 5, (8,)) if args.quick else (5000, 10, (32,))
    n_pool = 2000 if args.quick else 100_000
    if args.quick:
        args.repeat = 1
    results = {}
    X = rng.normal(size=(n, d))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n)
    w = np.ones(n)

    model = MLP(hidden, "tanh")
    params0 = model.initialize(d, np.random.RandomState(0))
    reg = L2Regularizer(model.penalized)

    def train(track):
        train_minibatch(
            model, reg, 1e-4, X, y, w, params0, solver="adam", batch_size=200,
            learning_rate_init=1e-3, max_iter=10, tol=None,
            random_state=np.random.RandomState(0), track_tangent=track,
        )

    off = best_time(lambda: train(False), args.repeat)
    on = best_time(lambda: train(True), args.repeat)
    results["forward_over_off"] = on / off
    print(f"1. adam training, 10 epochs, n={n}, p={params0.size}: tangent off {off:.3f}s, "
          f"forward tangent {on:.3f}s, ratio {on / off:.2f} (target <= 2)")

    # The fit includes the tangent (there is no switch to turn it off): the
    # forward tangent for adam, the exact one (auto at p <= 500) for lbfgs.
    # The tangent, the damping check and the Laplace factor are a one-off
    # O(n p^2) cost at the end of the fit: it weighs less the longer the
    # training, so lbfgs is also timed at MLPRegressor's default max_iter=200.
    runs = [("adam", 20), ("lbfgs", 20)] + ([] if args.quick else [("lbfgs", 200)])
    for solver, max_iter in runs:
        kw = dict(batch_size=200) if solver == "adam" else {}
        tangent = "forward" if solver == "adam" else "exact"
        ours = CuriousRegressor(
            model="mlp", alpha=1e-4, hidden_layer_sizes=hidden, activation="tanh", solver=solver,
            max_iter=max_iter, tol=None if solver == "adam" else 0.0, random_state=0,
            tangent_solver=tangent, **kw,
        )
        theirs = MLPRegressor(
            hidden_layer_sizes=hidden, activation="tanh", alpha=1e-4, solver=solver,
            max_iter=max_iter, tol=0.0, n_iter_no_change=1000, random_state=0, **kw,
        )
        t_ours = best_time(lambda: ours.fit(X, y), args.repeat)
        t_theirs = best_time(lambda: theirs.fit(X, y), args.repeat)
        # The same training without the tangent, effective dof and Hessian.
        if solver == "adam":
            train_only = lambda: train_minibatch(  # noqa: E731
                model, reg, 1e-4, X, y, w, params0, solver="adam", batch_size=200,
                learning_rate_init=1e-3, max_iter=max_iter, tol=None,
                random_state=np.random.RandomState(0),
            )
        else:
            train_only = lambda: train_lbfgs(model, reg, 1e-4, X, y, w, params0, max_iter, 0.0)  # noqa: E731
        t_train = best_time(train_only, args.repeat)
        key = f"{solver}_{max_iter}"
        results[f"train_{key}_over_sklearn"] = t_train / t_theirs
        results[f"fit_{key}_over_sklearn"] = t_ours / t_theirs
        iterations = f"iterations: ours {ours.n_iter_}, MLPRegressor {theirs.n_iter_}"
        print(f"2. training only {solver}, max_iter={max_iter}: ours {t_train:.3f}s, MLPRegressor "
              f"{t_theirs:.3f}s, ratio {t_train / t_theirs:.2f}")
        print(f"2. fit {solver}, max_iter={max_iter} ({iterations}): CuriousRegressor "
              f"{t_ours:.3f}s (with {tangent} tangent), MLPRegressor {t_theirs:.3f}s, "
              f"ratio {t_ours / t_theirs:.2f} (target <= 1.5)")

    fitted = CuriousRegressor(model="mlp", hidden_layer_sizes=hidden, max_iter=20, random_state=0).fit(X[:500], y[:500])
    X_big = rng.normal(size=(n_pool, d))
    t_pred = best_time(lambda: fitted.predict(X_big), args.repeat)
    t_sens = best_time(lambda: fitted.regularity_sensitivity(X_big), args.repeat)
    results["sensitivity_over_predict"] = t_sens / t_pred
    print(f"3. {n_pool:,} rows: predict {t_pred:.3f}s, regularity_sensitivity {t_sens:.3f}s, "
          f"ratio {t_sens / t_pred:.2f} (target <= 3)")

    d_big, hidden_big = (4, (8,)) if args.quick else (14, (64,))
    analytic = MLP(hidden_big, "tanh")
    auto = MLP(hidden_big, "tanh", "autograd")
    p = analytic.initialize(d_big, np.random.RandomState(0))
    auto.initialize(d_big, np.random.RandomState(0))
    v = rng.normal(size=p.size)
    # By n: autograd's per-operation overhead dominates small batches; on large
    # ones both approach their floors (Pearlmutter: about two gradient passes).
    for n_h in (1000,) if args.quick else (10, 100, 1000, 10_000):
        X_h, y_h, w_h = rng.normal(size=(n_h, d_big)), rng.normal(size=n_h), np.ones(n_h)
        t_hand = best_time(lambda: analytic.loss_hvp(p, X_h, y_h, w_h, v), args.repeat * 5)
        t_auto = best_time(lambda: auto.loss_hvp(p, X_h, y_h, w_h, v), args.repeat * 5)
        t_grad = best_time(lambda: analytic.loss_grad(p, X_h, y_h, w_h), args.repeat * 5)
        if n_h == 1000:
            results["autograd_over_hand_hvp"] = t_auto / t_hand
        print(f"4. HVP at p={p.size}, n={n_h}: hand-written {t_hand * 1e3:.2f}ms "
              f"({t_hand / t_grad:.1f} gradients), autograd {t_auto * 1e3:.2f}ms, "
              f"speed-up {t_auto / t_hand:.1f}x (target >= 20)")

    # The exact tangent's dense Hessian: the one-hidden-layer closed form
    # against the generic route, the R-operator on the identity block (which
    # every deeper network takes).
    eye = np.eye(params0.size)
    t_closed = best_time(lambda: model.loss_hessian(params0, X, y, w), args.repeat)
    t_block = best_time(lambda: model.loss_hvp(params0, X, y, w, eye), args.repeat)
    results["dense_hessian_block_over_closed_form"] = t_block / t_closed
    print(f"5. dense Hessian at n={n}, p={params0.size}: closed form {t_closed * 1e3:.1f}ms, "
          f"identity block of HVPs {t_block * 1e3:.0f}ms, ratio {t_block / t_closed:.1f}")
    return results


if __name__ == "__main__":
    main()
