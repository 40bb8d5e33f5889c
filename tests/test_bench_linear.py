"""Smoke run of benchmarks/bench_linear.py --quick: every row, in seconds."""

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_bench_linear_quick_reports_every_row():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_linear
    finally:
        sys.path.remove(str(BENCHMARKS))
    ratios = bench_linear.main(["--quick"])
    assert set(ratios) == {"fit_2000x20", "fit_20x500", "cv_20x500", "score_over_predict"}
    assert all(np.isfinite(r) and r > 0 for r in ratios.values())
