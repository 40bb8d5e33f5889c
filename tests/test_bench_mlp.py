"""Smoke run of benchmarks/bench_mlp.py --quick: all five figures, in seconds."""

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_bench_mlp_quick_reports_all_five_figures():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_mlp
    finally:
        sys.path.remove(str(BENCHMARKS))
    results = bench_mlp.main(["--quick"])
    assert set(results) == {
        "forward_over_off", "fit_adam_20_over_sklearn", "fit_lbfgs_20_over_sklearn",
        "train_adam_20_over_sklearn", "train_lbfgs_20_over_sklearn",
        "sensitivity_over_predict", "autograd_over_hand_hvp",
        "dense_hessian_block_over_closed_form",
    }
    assert all(np.isfinite(r) and r > 0 for r in results.values())
