"""Smoke run of benchmarks/bench_network_precision.py: both sections print their rows."""

from _benchmarks import import_benchmark


def test_bench_network_precision_prints_both_sections(capsys):
    bench = import_benchmark("bench_network_precision")
    bench.main(["--fits", "1", "--rows", "3000", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "float32 against float64" in out and "Cost on 3000 x 50" in out
    accuracy = [line for line in out.splitlines() if line.split()[:1] in (["diabetes"],
                                                                       ["breast_cancer"])]
    assert len(accuracy) == 2 * 2 * 3  # data sets x networks x calls
    # float32 really differs from float64, and by float32 amounts.
    assert all(0 < float(line.split()[-3]) < 1e-3 for line in accuracy)
    cost = [line for line in out.splitlines() if line.strip().startswith("mlp")]
    assert len(cost) == 2 and all(float(x) > 0 for line in cost for x in line.split()[-2:])
