"""Smoke run of benchmarks/bench_floor.py on a tiny pool: every section prints its rows."""

from _benchmarks import import_benchmark


def test_bench_floor_prints_every_section(capsys):
    bench_floor = import_benchmark("bench_floor")
    bench_floor.main(["--rows", "3000", "--repeat", "1", "--models", "linear", "mlp (32,)"])
    out = capsys.readouterr().out
    for title in ["Ratios to the floor", "n_jobs scaling", "working_memory sweep", "Block sweep"]:
        assert title in out
    ratio_lines = [line for line in out.splitlines() if line.strip().startswith("3000")]
    # Two dtypes; four calls for a network, seven for the linear model (its
    # std, its epistemic scores and scikit-learn's Ridge.predict besides).
    assert len(ratio_lines) == 2 * (7 + 4)
    assert all(float(line.split()[-1]) > 0 for line in ratio_lines)
