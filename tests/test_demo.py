"""The README's demo runs, and ranks what it says it ranks."""

import io
import subprocess
import sys

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor
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
