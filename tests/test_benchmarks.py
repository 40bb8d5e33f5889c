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


@pytest.fixture(scope="module")
def targets(report):
    out = report[0]
    return json.loads((out / "targets.json").read_text())


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


def test_targets_smoke_runs_every_script(targets):
    assert targets["report_config"] == "smoke"
    linear = {row["key"] for row in targets["linear"]["rows"]}
    assert {"fit_2000x20", "fit_20x500", "cv_20x500", "score_over_predict"} == linear
    floor = targets["floor"]
    assert {(r["model"], r["dtype"]) for r in floor["ratios"]} == {
        (m, d) for m in ("linear", "mlp (32,)", "mlp (64, 64)") for d in ("float32", "float64")}
    assert {r["n_jobs"] for r in floor["jobs"]} == {1, 2}
    assert floor["chunks"] and floor["blocks"]
    assert targets["big_networks"]["rows"][0]["breakdown"]["route"]
    threads = targets["threads"]["rows"]
    assert {r["condition"] for r in threads} == {"idle", "busy"}
    assert any(r["what"].startswith("ours fit") for r in threads)
    for name in ("linear", "floor", "big_networks", "threads"):
        # the machine of each run, and its exact arguments
        assert targets[name]["machine"]["cores"] and targets[name]["wall_seconds"] > 0
        assert "--json" not in targets[name]["command_args"]


def test_targets_section_rendered(report, targets):
    page = (report[0] / "benchmarks.rst").read_text()
    section = page[page.index("Against the targets"):page.index("How many labels it saves")]
    assert ".. _benchmarks-targets:" in page  # the user guide's link to it
    for title in ("Linear fits against scikit-learn", "Scoring a pool against its floor",
                  "Threads: n_jobs", "Chunk and block sizes",
                  "Networks: fit, tangent, dof and Laplace against MLPRegressor",
                  "Default BLAS threads against one thread", "Machine of these runs"):
        assert title in section, title
    assert "``pool @ w``" in section and "``pool @ W1``" in section  # the floor, in words
    for command in ("python benchmarks/bench_linear.py --quick",
                    "python benchmarks/bench_floor.py --rows 3000 --repeat 1",
                    "python benchmarks/bench_big_networks.py --quick",
                    "python benchmarks/bench_threads.py --quick --repeat 1"):
        assert f"``{command}``" in section
    for target in ("≤ 1.2×", "≤ 1.5×", "≤ 3×", "≤ 2×", "≥ 1.7×"):
        assert target in section, target
    # One verdict per row that has a target, computed from the numbers.
    n_verdicts = section.count("- met\n") + section.count("- **missed**\n")
    summary = section[section.index("Of the "):]
    n_targets = int(summary.split()[2])
    assert n_verdicts == n_targets > 0
    assert targets["floor"]["machine"]["load average at start"] in section


def test_target_verdicts_follow_the_numbers():
    targets = import_benchmark("_report_targets")
    tall = {"key": "fit_100000x20", "n_samples": 100_000, "n_features": 20}
    assert targets.linear_target({**tall, "ratio": 1.19}) == ("≤ 1.2×", True)
    assert targets.linear_target({**tall, "ratio": 1.21}) == ("≤ 1.2×", False)
    wide = {"key": "fit_50x5000", "n_samples": 50, "n_features": 5_000, "ratio": 0.5}
    assert targets.linear_target(wide)[1] is None  # no number set for wide data
    row = {"model": "linear", "call": "predict(return_std)", "ratio": 2.9}
    assert targets.floor_target(row)[1] and not targets.floor_target({**row, "ratio": 3.1})[1]
    row = {"model": "mlp (32,)", "call": "influence_score(y)", "ratio": 2.1}
    assert targets.floor_target(row) == ("≤ 2×", False)
    assert targets.floor_target({**row, "call": "predict"})[1] is None
    # n_jobs: 1.7 at two jobs for both models, 0.6 k for a network beyond
    assert targets.jobs_target({"model": "linear", "n_jobs": 2, "speedup": 1.69})[1] is False
    assert targets.jobs_target({"model": "linear", "n_jobs": 4, "speedup": 1.0})[1] is None
    assert targets.jobs_target({"model": "mlp (32,)", "n_jobs": 4, "speedup": 2.41}) == (
        "≥ 2.4×", True)
    assert targets.thread_target({"what": "MLPRegressor fit (8,) n=40", "ratio": 9})[1] is None
    assert targets.thread_target({"what": "ours fit (8,) n=40", "ratio": 1.3})[1] is False
    times = [{"rows": 10, "model": "mlp (32,)", "dtype": "float32", "call": call,
              "seconds": t} for call, t in (("predict", 2.0), ("influence_score", 3.2))]
    (over,) = targets.network_score_over_predict(times)
    assert over["ratio"] == pytest.approx(1.6)


def test_report_reruns_one_benchmark(report, tmp_path):
    out, _, _, make_report = report
    for name in ("cost.json", "label.json", "targets.json"):
        (tmp_path / name).write_text((out / name).read_text())
    label_before = (tmp_path / "label.json").read_text()
    page = tmp_path / "page.rst"
    make_report.main(["--smoke", "--only", "cost", "--out", str(tmp_path), "--page", str(page)])
    assert (tmp_path / "label.json").read_text() == label_before  # kept, not rerun
    assert "Where influence sampling loses" in page.read_text()
    # A smoke run's results are not mixed into a real run's page.
    with pytest.raises(SystemExit, match="configuration"):
        make_report.main(["--only", "cost", "--out", str(tmp_path), "--page", str(page)])
    # Real runs of different configurations are, each part naming its own command.
    for name, config in (("cost", "full"), ("label", "full"), ("targets", "reduced")):
        result = json.loads((tmp_path / f"{name}.json").read_text())
        (tmp_path / f"{name}.json").write_text(json.dumps({**result, "report_config": config}))
    make_report.main(["--render-only", "--out", str(tmp_path), "--page", str(page)])
    text = page.read_text()
    assert "different configurations" in text
    assert "``python benchmarks/make_report.py --reduced --only targets``" in text
    assert "``python benchmarks/make_report.py --only label``" in text


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
    # The page's tables carry the same figures as the markdown.
    label["config"] = {"batch": 1, "rounds": 15, "seeds": 2, "peer_seeds": 2}
    label["labels"] = [10, 25]
    rst = make_report.goal_rst({"toy": label})
    assert "toy: batch 1, alpha fixed, 15 rounds, 2 seeds" in rst
    assert f"     - {(0.81 + 1.11) / 2:.3f}\n     - 1 of 2\n     - variance sampling (0.900)" in rst
    assert "-10.00% ± 0.00% (4 pairs)" in rst


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
