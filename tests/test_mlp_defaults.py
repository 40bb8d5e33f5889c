"""A user's default network on a small table fits, scores and gives a
predictive std: scikit-learn's diabetes data at 40 and 200 labelled rows,
through the library and through ``suggest --model mlp``."""

import csv
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor


def diabetes_split(n_labelled, seed):
    X, y = load_diabetes(return_X_y=True)
    order = np.random.RandomState(seed).permutation(len(y))
    return X[order[:n_labelled]], y[order[:n_labelled]], X[order[n_labelled:]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_labelled", [40, 200])
def test_default_network_gives_a_finite_std_without_a_laplace_warning(n_labelled, seed):
    X, y, X_pool = diabetes_split(n_labelled, seed)
    # Scaled as suggest scales them (features and target).
    scaler = StandardScaler().fit(X)
    target = (y - y.mean()) / y.std()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = CuriousRegressor(model="mlp").fit(scaler.transform(X), target)
        mean, std = reg.predict(scaler.transform(X_pool), return_std=True)
        scores = reg.influence_score(scaler.transform(X_pool))
    # Pruned units leave unpenalized biases that no prediction depends on;
    # the Laplace approximation's prior covers them, with no warning. (The
    # tangent may still note a damped Hessian where training stopped near a
    # saddle, and L-BFGS may stop at max_iter: both are about the fit.)
    laplace_warnings = [w for w in caught if "Gauss-Newton" in str(w.message)]
    assert not laplace_warnings
    assert reg._laplace.damping == 0.0
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)
    assert np.all(np.isfinite(scores))
    assert 0 < reg.effective_dof_ < n_labelled and np.isfinite(reg.noise_variance_)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def test_suggest_mlp_with_defaults_succeeds_on_diabetes(tmp_path):
    features = load_diabetes().feature_names
    processes = []
    # One seed per size here (each process imports scikit-learn); seeds 0-4
    # all succeed, and the library test above runs them all.
    for n_labelled, seed in [(40, 0), (200, 3)]:
        X, y, X_pool = diabetes_split(n_labelled, seed)
        folder = tmp_path / f"{n_labelled}-{seed}"
        folder.mkdir()
        write_csv(folder / "labelled.csv", [*features, "target"], np.column_stack([X, y]))
        write_csv(folder / "candidates.csv", features, X_pool)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "sklearn_curiosity", "suggest", "labelled.csv",
             "candidates.csv", "--target", "target", "--model", "mlp"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        ))
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "Gauss-Newton" not in stdout + stderr
