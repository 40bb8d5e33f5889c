"""Smoke runs of the benchmark commands (benchmarks/), seconds each.

The benchmarks are scripts, not part of the package: these tests run their
``--smoke`` configurations end to end, through the same ``make_report.py``
that writes the results page, into a temporary folder.
"""

import json

import numpy as np
import pytest

from _benchmarks import import_benchmark


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    make_report = import_benchmark("make_report")
    out = tmp_path_factory.mktemp("report")
    make_report.main(["--smoke", "--out", str(out), "--page", str(out / "benchmarks.rst")])
    cost = json.loads((out / "cost.json").read_text())
    label = json.loads((out / "label.json").read_text())
    return out, cost, label, make_report


def test_cost_smoke_times_every_peer(report):
    _, cost, _, _ = report
    names = {row["what"] for row in cost["pool"]}
    for peer in ["GreedySamplingX", "QueryByCommittee", "ExpectedModelChangeMaximization",
                 "ExpectedModelVarianceReduction", "KLDivergenceMaximization", "max_std_sampling"]:
        assert any(peer in name for name in names), peer
    for peer in ["ExpectedModelVarianceReduction", "KLDivergenceMaximization",
                 "ExpectedModelOutputChange", "QueryByCommittee"]:
        assert f"peer strategy on our model: skactiveml {peer}" in " ".join(names), peer
    fits = [row["what"] for row in cost["fit"] if "seconds" in row]
    assert any("MLPRegressor" in f for f in fits)
    assert any("model='mlp') training only" in f for f in fits)
    assert any("model='mlp').fit" in f for f in fits)
    assert {row["what"] for row in cost["mlp_pool"]} == {
        "CuriousRegressor(model='mlp').predict", "influence_score (mlp)"}
    for row in cost["fit"] + cost["pool"] + cost["mlp_pool"]:
        # every row is either timed or says why it was not run
        assert ("seconds" in row and row["seconds"] > 0) or row["not_run"]


def test_label_efficiency_smoke_curves(report):
    _, _, label, _ = report
    assert set(label["models"]) == {"linear", "poly", "mlp"}
    assert {"EMVR (skactiveml on ours)", "KLD (skactiveml on ours)", "EMOC (skactiveml on ours)",
            "QBC (skactiveml on ours)"} <= set(label["strategies"])
    n_points = label["config"]["rounds"] + 1
    summary = {(r["dataset"], r["model"], r["strategy"]): r for r in label["summary"]}
    for dataset in label["datasets"]:
        for model in label["models"]:
            for strategy in label["strategies"]:
                row = summary[(dataset, model, strategy)]
                assert len(row["mean"]) == n_points
                assert np.all(np.isfinite(row["mean"])) and row["auc"] > 0


def test_report_page_written(report):
    out, _, label, _ = report
    page = (out / "benchmarks.rst").read_text()
    assert "Where influence sampling loses" in page
    assert "make_report.py --smoke" in page
    for model in label["models"]:
        assert (out / f"curves_{model}.png").stat().st_size > 0
    assert (out / "cost.png").stat().st_size > 0


def test_report_reruns_one_benchmark(report, tmp_path):
    out, _, _, make_report = report
    for name in ("cost.json", "label.json"):
        (tmp_path / name).write_text((out / name).read_text())
    label_before = (tmp_path / "label.json").read_text()
    page = tmp_path / "page.rst"
    make_report.main(["--smoke", "--only", "cost", "--out", str(tmp_path), "--page", str(page)])
    assert (tmp_path / "label.json").read_text() == label_before  # kept, not rerun
    assert "Where influence sampling loses" in page.read_text()
    # Results of another configuration are not mixed into the page.
    with pytest.raises(SystemExit, match="configuration"):
        make_report.main(["--only", "cost", "--out", str(tmp_path), "--page", str(page)])


def test_shared_timing_helpers():
    _common = import_benchmark("_common")
    calls = []
    # the best of the runs, and a budget that stops after the first slow one
    times = iter([0.0, 0.02, 0.0, 0.005])
    import time

    def sleeper():
        calls.append(1)
        time.sleep(next(times))

    assert 0.0 <= _common.best_time(sleeper, repeat=2) < 0.02
    calls.clear()
    _common.best_time(lambda: (calls.append(1), time.sleep(0.02)), repeat=5, budget=0.01)
    assert len(calls) == 1
    first, second = _common.interleaved(lambda: time.sleep(0.02), lambda: None, 2)
    assert first >= 0.02 > second
    # a 8 MB numpy buffer is seen by tracemalloc; the result comes back
    peak, result = _common.traced_peak(lambda: np.ones(10**6).sum())
    assert peak >= 8 * 10**6 and result == 10**6


def test_goal_rows_compare_to_random_and_the_best_peer():
    make_report = import_benchmark("make_report")

    def row(dataset, strategy, aucs):
        aucs = np.asarray(aucs, dtype=float)
        return {"dataset": dataset, "model": "linear", "strategy": strategy,
                "seeds": list(range(len(aucs))), "aucs": aucs.tolist(),
                "auc": aucs.mean(), "auc_se": aucs.std(ddof=1) / np.sqrt(len(aucs))}

    summary = []
    for d, ours in (("a", [0.80, 0.82]), ("b", [1.10, 1.12])):
        summary += [row(d, "random", [1.0, 1.0]), row(d, "influence top-k", ours),
                    row(d, "influence top-k epistemic", [0.9 * a for a in ours]),
                    row(d, "variance sampling", [0.90, 0.90]), row(d, "GSx (ours)", [0.95, 0.97])]
    label = {"models": ["linear"], "datasets": {"a": {}, "b": {}}, "summary": summary,
             "strategies": ["random", "influence top-k", "influence top-k epistemic",
                            "variance sampling", "GSx (ours)"]}
    rows = {r["strategy"]: r for r in make_report.goal_rows(label)}
    top_k = rows["influence top-k"]
    assert top_k["ratio_to_random"] == pytest.approx((0.81 + 1.11) / 2)
    assert (top_k["wins_vs_random"], top_k["cases"]) == (1, 2)
    assert top_k["best_peer"] == "variance sampling"
    assert top_k["ratio_to_best_peer"] == pytest.approx(0.96 / 0.90)
    # On "b" variance sampling is ahead by (1.11 - 0.90) / 0.01 = 21 standard errors.
    assert len(top_k["behind_by_2se"]) == 1 and top_k["behind_by_2se"][0].startswith("b: var")
    (epistemic,) = make_report.uncertainty_rows(label)
    assert epistemic["mean_difference"] == pytest.approx(-0.1)
    assert epistemic["datasets_better"] == 2


def test_closed_form_variance_reduction_equals_refits():
    bench = import_benchmark("bench_label_efficiency")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_curiosity import CuriousRegressor

    rng = np.random.RandomState(0)
    X, X_pool = rng.normal(size=(15, 3)), 2 * rng.normal(size=(40, 3))
    y = X @ [1.0, -1.0, 0.5] + 0.3 * rng.normal(size=15)
    fitted = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)).fit(X, y)

    def summed_variance(pipe):
        _, std = pipe.predict(X_pool, return_std=True)
        return np.sum(std**2 / pipe[-1].noise_variance_ - 1)

    # Brute force: refit with each candidate at its predicted label (the
    # scaler kept as fitted), and the drop of the pool's summed v.
    before = summed_variance(fitted)
    drops = []
    for c in range(len(X_pool)):
        refit = make_pipeline(fitted[0], CuriousRegressor(alpha=1.0))
        refit[-1].fit(fitted[0].transform(np.vstack([X, X_pool[c]])),
                      np.r_[y, fitted.predict(X_pool[[c]])])
        drops.append(before - summed_variance(refit))
    ctx = {"fitted": fitted, "X_pool": X_pool, "batch": 3}
    gains = bench._summed_variance_drops(bench._pool_kernel(ctx))
    np.testing.assert_allclose(gains, drops, rtol=1e-8)
    picks = bench.variance_reduction(ctx)
    assert picks[0] == np.argmax(drops)
    assert len(set(picks)) == 3
