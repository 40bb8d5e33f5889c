"""The gallery examples run, headless, and say what they claim."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("plot_*.py")))
def test_example_runs(script, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    finally:
        plt.close("all")


def test_polynomial_example_is_most_curious_away_from_the_labels():
    pytest.importorskip("matplotlib").use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    namespace = runpy.run_path(str(EXAMPLES / "plot_polynomial_curiosity.py"))
    plt.close("all")
    x_train, x_pool, curiosity = (namespace[k] for k in ("x_train", "x_pool", "curiosity"))
    search = namespace["search"]
    # alpha is interior to the grid, and the most curious point is far from every label.
    assert search.alpha_ not in (namespace["alphas"][0], namespace["alphas"][-1])
    best = x_pool[np.argmax(curiosity)]
    assert np.min(np.abs(x_train - best)) > 0.2
