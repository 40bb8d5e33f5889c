"""Smoke run of benchmarks/bench_linear.py --quick: every row, in seconds."""

import numpy as np

from _benchmarks import import_benchmark


def test_bench_linear_quick_reports_every_row():
    bench_linear = import_benchmark("bench_linear")
    result = bench_linear.main(["--quick"])
    ratios = {row["key"]: row["ratio"] for row in result["rows"]}
    assert set(ratios) == {"fit_2000x20", "fit_20x500", "cv_20x500", "score_over_predict"}
    assert all(np.isfinite(r) and r > 0 for r in ratios.values())
