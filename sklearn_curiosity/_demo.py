"""The README's demo: which diabetes patients is the model most curious about?"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._regressor import CuriousRegressor
from .scores import influence_score

# The intercept takes one labelled patient and the noise estimate at least
# one more; a third leaves the noise estimate a residual to rest on.
MIN_LABELLED = 3


def n_patients():
    """How many patients scikit-learn's diabetes data has (442)."""
    return len(load_diabetes().target)


def run_demo(n_labelled=40, n_show=5, random_state=0, file=None):
    """Fit on a few labelled patients and rank the rest by curiosity.

    Parameters
    ----------
    n_labelled : int, default=40
        How many patients of scikit-learn's diabetes data start labelled, from
        :data:`MIN_LABELLED` to one less than the 442 patients.

    n_show : int, default=5
        How many candidates and labelled points to list.

    random_state : int, default=0
        Seed of the labelled subset (``>= 0``).

    file : file-like, default=None
        Where to print (standard output by default).

    Returns
    -------
    chosen : ndarray of shape (min(n_show, n_candidates),)
        The most curious candidates' indices in the diabetes data.

    Examples
    --------
    >>> import io
    >>> from sklearn_curiosity._demo import run_demo
    >>> run_demo(n_labelled=40, n_show=3, file=io.StringIO()).shape
    (3,)
    """
    data = load_diabetes()
    n_rows = len(data.target)
    if not MIN_LABELLED <= n_labelled < n_rows:
        raise ValueError(
            f"n_labelled must be from {MIN_LABELLED} to {n_rows - 1} (the diabetes data "
            f"has {n_rows} patients, and one must stay a candidate); got {n_labelled}."
        )
    if n_show < 1:
        raise ValueError(f"n_show must be at least 1; got {n_show}.")
    if random_state < 0:
        raise ValueError(f"random_state must be >= 0; got {random_state}.")

    def say(line=""):
        print(line, file=file)

    X, y, names = data.data, data.target, np.array(data.feature_names)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(y))
    labelled, pool = order[:n_labelled], order[n_labelled:]

    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=5.0))
    pipe.fit(X[labelled], y[labelled])
    scaler, reg = pipe[0], pipe[-1]

    say(f"Diabetes progression, {n_labelled} labelled patients, {len(pool)} candidates.")
    say(
        f"CuriousRegressor(alpha={reg.alpha}): noise sd {np.sqrt(reg.noise_variance_):.1f}, "
        f"complexity 1/2||coef||^2 = {reg.complexity_:.1f}, "
        f"effective dof {reg.effective_dof_:.1f}."
    )
    say()
    say("The candidates the model is most curious about (label these next):")
    say("curiosity = noise variance x g(x)^2, g(x) = d prediction / d alpha")
    curiosity = influence_score(pipe, X[pool])
    sensitivity = reg.regularity_sensitivity(scaler.transform(X[pool]))
    # g(x) = sum_j x_j tau_j + tau_b: the largest terms say which standardized
    # features make the prediction at x lean on the regularization.
    contributions = scaler.transform(X[pool]) * reg.tangent_[:-1]
    say(f"{'patient':>8} {'curiosity':>10} {'g(x)':>8} {'predicted':>10}  "
        "why (feature in sd units)")
    for rank in np.argsort(-curiosity)[:n_show]:
        top = np.argsort(-np.abs(contributions[rank]))[:2]
        z = scaler.transform(X[pool[[rank]]])[0]
        why = ", ".join(f"{names[j]} {z[j]:+.1f} sd" for j in top)
        say(
            f"{pool[rank]:>8} {curiosity[rank]:>10.2f} {sensitivity[rank]:>8.3f} "
            f"{pipe.predict(X[pool[[rank]]])[0]:>10.1f}  {why}"
        )
    say(f"(median curiosity over the candidates: {np.median(curiosity):.3f})")
    say()
    say("The labelled patients that drive the model's complexity most,")
    say("|I(x, y)| = |(f(x) - y) g(x)|: candidates for a second look at their labels:")
    influence = influence_score(pipe, X[labelled], y[labelled])
    say(f"{'patient':>8} {'influence':>10} {'label':>7} {'predicted':>10}")
    for rank in np.argsort(-np.abs(influence))[:n_show]:
        say(
            f"{labelled[rank]:>8} {influence[rank]:>+10.2f} {y[labelled[rank]]:>7.0f} "
            f"{pipe.predict(X[labelled[[rank]]])[0]:>10.1f}"
        )
    say("Positive influence: up-weighting that label makes the model more complex.")
    return pool[np.argsort(-curiosity)[:n_show]]
