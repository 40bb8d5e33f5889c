"""
===============================================
An active-learning session on the diabetes data
===============================================

A model starts from 15 labelled patients of scikit-learn's diabetes data and
asks for 3 more labels per round, 10 rounds. Which patients it asks about
depends on the query strategy:

- ``influence_sampling``: the patients the model is most curious about, the
  largest expected squared influence on its complexity (top-k);
- the same with ``batch="greedy"``: each pick joins the design with its
  predicted label and the pool is rescored before the next pick, so a batch
  does not ask three times about the same direction;
- ``improved_greedy_sampling`` (iGS, Wu 2019), a strong baseline that spreads
  the queries in input and output space;
- ``random_sampling``, the reference.

:func:`~sklearn_curiosity.query.run_active_learning` runs the loop (fit, record
the test error, query, reveal the labels) and returns the learning curve. The
curves are averaged over a few random splits of the data.
"""

# SPDX-License-Identifier: BSD-3-Clause

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.query import (
    improved_greedy_sampling,
    influence_sampling,
    random_sampling,
    run_active_learning,
)

X, y = load_diabetes(return_X_y=True)
model = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0))

strategies = {
    "influence (top-k)": (influence_sampling, {}),
    "influence (greedy batch)": (influence_sampling, {"batch": "greedy"}),
    "iGS (Wu 2019)": (improved_greedy_sampling, {}),
    "random": (random_sampling, {}),
}

# %%
# Run the sessions
# ----------------
# Each split holds out 30% of the patients as the test set; the rest is the
# pool the learner may ask about. All strategies start from the same 15
# patients of each split.

n_splits, n_queries, batch_size = 5, 10, 3
curves = {name: [] for name in strategies}
for split in range(n_splits):
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, random_state=split)
    start = np.random.RandomState(split).choice(len(X_pool), size=15, replace=False)
    for name, (strategy, kwargs) in strategies.items():
        result = run_active_learning(
            model,
            strategy,
            X_pool,
            y_pool,
            n_queries=n_queries,
            batch_size=batch_size,
            X_test=X_test,
            y_test=y_test,
            initial_indices=start,
            strategy_kwargs=kwargs,
            random_state=split,
        )
        curves[name].append(result.test_error)
n_labelled = result.n_labelled

for name, errors in curves.items():
    print(f"{name:26s} test RMSE after {n_labelled[-1]} labels: {np.mean(errors, axis=0)[-1]:.1f}")

# %%
# The learning curves
# -------------------
# The test RMSE against the number of labels, averaged over the splits.

fig, ax = plt.subplots(figsize=(6, 4))
for name, errors in curves.items():
    ax.plot(n_labelled, np.mean(errors, axis=0), marker="o", markersize=3, label=name)
ax.set_xlabel("labelled patients")
ax.set_ylabel("test RMSE")
ax.set_title(f"Diabetes, mean of {n_splits} splits")
ax.legend()
fig.tight_layout()
plt.show()
