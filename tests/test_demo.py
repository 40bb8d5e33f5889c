"""The README's demo runs, and ranks what it says it ranks."""

import io
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.__main__ import main
from sklearn_curiosity._demo import run_demo


def test_demo_lists_the_pool_points_with_the_largest_expected_squared_influence():
    out = io.StringIO()
    chosen = run_demo(n_labelled=40, n_show=5, random_state=0, file=out)

    X, y = load_diabetes(return_X_y=True)
    labelled = np.random.default_rng(0).permutation(len(y))[:40]
    pool = np.setdiff1d(np.arange(len(y)), labelled)
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=5.0)).fit(X[labelled], y[labelled])
    # Oracle: curiosity from a Monte Carlo over simulated labels, no closed form.
    rng = np.random.default_rng(1)
    prediction = pipe.predict(X[pool])
    draws = prediction + rng.normal(scale=np.sqrt(pipe[-1].noise_variance_), size=(4000, len(pool)))
    mc = np.mean(
        [pipe[-1].influence_score(pipe[0].transform(X[pool]), d) ** 2 for d in draws], axis=0
    )
    assert set(chosen) <= set(pool[np.argsort(-mc)[:8]])
    for index in chosen:
        assert f"{index:>8}" in out.getvalue()


def test_demo_runs_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_curiosity", "demo", "-n", "3"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    assert "most curious about" in result.stdout
    assert "drive the model's complexity" in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--n-labelled", "0"], "--n-labelled: must be at least 3, got 0"),
        (["--n-labelled", "1"], "--n-labelled: must be at least 3, got 1"),
        (["--n-labelled", "-5"], "--n-labelled: must be at least 3, got -5"),
        (["--n-labelled", "100000"], "--n-labelled: must be at most 441"),
        (["--n-labelled", "442"], "--n-labelled: must be at most 441"),
        (["--seed", "-1"], "--seed: must be at least 0, got -1"),
        (["-n", "-1"], "-n/--n-show: must be at least 1, got -1"),
        (["-n", "0"], "-n/--n-show: must be at least 1, got 0"),
        (["--n-labelled", "ten"], "--n-labelled: invalid integer value: 'ten'"),
    ],
)
def test_demo_arguments_out_of_range_get_one_line(capsys, args, expected):
    with pytest.raises(SystemExit) as exit:
        main(["demo", *args])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert expected in captured.err


@pytest.mark.parametrize(
    "kwargs", [{"n_labelled": 2}, {"n_labelled": 442}, {"n_show": 0}, {"random_state": -1}]
)
def test_run_demo_refuses_out_of_range_values(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        run_demo(**kwargs, file=io.StringIO())


def test_demo_at_the_ends_of_its_ranges():
    # The fewest labelled patients, and all but one: both rank and print.
    n_patients = len(load_diabetes().target)
    for n_labelled, n_show in [(3, 1000), (n_patients - 1, 5)]:
        out = io.StringIO()
        chosen = run_demo(n_labelled=n_labelled, n_show=n_show, file=out)
        assert len(chosen) == min(n_show, n_patients - n_labelled)
        words = out.getvalue().split()
        assert "nan" not in words and "inf" not in words
