"""Smoke run of benchmarks/bench_mlp.py --quick: all five figures, in seconds."""

import numpy as np

from _benchmarks import import_benchmark


def test_bench_mlp_quick_reports_all_five_figures():
    bench_mlp = import_benchmark("bench_mlp")
    results = bench_mlp.main(["--quick"])
    assert set(results) == {
        "forward_over_off", "fit_adam_20_over_sklearn", "fit_lbfgs_20_over_sklearn",
        "train_adam_20_over_sklearn", "train_lbfgs_20_over_sklearn",
        "sensitivity_over_predict", "autograd_over_hand_hvp",
        "dense_hessian_block_over_closed_form",
    }
    assert all(np.isfinite(r) and r > 0 for r in results.values())
