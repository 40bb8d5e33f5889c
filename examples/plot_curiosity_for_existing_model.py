"""
=============================================================
Curiosity for a model you already have: a grid-searched Ridge
=============================================================

Many projects already hold a fitted scikit-learn model: a
:class:`~sklearn.linear_model.Ridge` at the end of a
:class:`~sklearn.pipeline.Pipeline`, its ``alpha`` found by
:class:`~sklearn.model_selection.GridSearchCV`. Ridge minimises the same
objective as :class:`~sklearn_curiosity.CuriousRegressor` (up to a factor of
two), so its fitted coefficients are already the curious model's
``theta*``: :meth:`~sklearn_curiosity.CuriousRegressor.from_estimator` adds
the regularity tangent, the noise variance and the predictive std at those
coefficients, without retraining and without changing a single prediction.

The data are 80 labelled patients of scikit-learn's diabetes data set (shipped
with scikit-learn, no download); the other 362 form the pool of candidates.
"""

# %%
# The model someone already has
# -----------------------------
# A degree-2 polynomial Ridge pipeline, ``alpha`` chosen by five-fold
# cross-validation.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score
from sklearn_curiosity.query import variance_sampling

X, y = load_diabetes(return_X_y=True)
order = np.random.default_rng(0).permutation(len(y))
labelled, pool = order[:80], order[80:]

search = GridSearchCV(
    make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge()),
    {"ridge__alpha": np.logspace(-1, 4, 11)},
    cv=KFold(5, shuffle=True, random_state=0),
    scoring="neg_mean_squared_error",
).fit(X[labelled], y[labelled])
print(f"best alpha: {search.best_params_['ridge__alpha']:.3g}")

# %%
# Add curiosity, keep the predictions
# -----------------------------------
# ``from_estimator`` takes the search (or its ``best_estimator_``, or any
# Pipeline ending in a Ridge, RidgeCV, LinearRegression, BayesianRidge or
# MLPRegressor) and the data it was fitted on. It returns the same Pipeline,
# its last step now a fitted CuriousRegressor with the same coefficients.

curious = CuriousRegressor.from_estimator(search, X[labelled], y[labelled])
gap = np.abs(curious.predict(X[pool]) - search.predict(X[pool])).max()
print(f"largest change of a prediction: {gap:.1e}")

curiosity = influence_score(curious, X[pool])
mean, std = curious.predict(X[pool], return_std=True)
top = np.argsort(-curiosity)[:10]
print("the 5 candidates to label first:")
for rank, i in enumerate(top[:5], start=1):
    print(f"  {rank}. patient {pool[i]:3d}  curiosity {curiosity[i]:10.3g}  std {std[i]:6.1f}")

# %%
# A search over a curious pipeline needs no conversion
# ----------------------------------------------------
# :func:`~sklearn_curiosity.influence_score` and the query strategies accept a
# fitted search object directly and score with its ``best_estimator_``.

curious_search = GridSearchCV(
    make_pipeline(StandardScaler(), PolynomialFeatures(2), CuriousRegressor()),
    {"curiousregressor__alpha": np.logspace(-1, 4, 11)},
    cv=KFold(5, shuffle=True, random_state=0),
    scoring="neg_mean_squared_error",
).fit(X[labelled], y[labelled])
picks, _ = variance_sampling(curious_search, X[pool], n_instances=10)
print(f"variance sampling and curiosity share {len(np.intersect1d(picks, top))} of 10 picks")

# %%
# Curiosity against the predictive std
# ------------------------------------
# The predictive std measures how unsure the model is about a patient's
# outcome; the curiosity measures how much that outcome would move the
# model's complexity. The most uncertain patient is among the most curious,
# but so are patients of ordinary std, and many uncertain ones are not: a
# label can be hard to predict without saying much about how strongly the
# model should be regularized.

fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
ax.scatter(std, curiosity, s=12, alpha=0.6, label="pool")
ax.scatter(std[top], curiosity[top], s=60, facecolors="none", edgecolors="k", label="10 most curious")
ax.set(xlabel="predictive std", ylabel="curiosity (expected squared influence)", yscale="log")
ax.legend()
plt.show()
