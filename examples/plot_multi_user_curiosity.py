"""
=========================================
Which user to ask, and about which input
=========================================

Data come from a few users who share a trend but each have their own slope.
:class:`~sklearn_curiosity.HierarchicalCuriousRegressor` fits shared
coefficients ``beta`` and one deviation ``delta_u`` per user, with two
regularities: ``alpha`` on ``beta`` and ``deviation_alpha`` on the deviations.

Its curiosity about a pair (input ``x``, user ``u``) is the expected squared
influence of labelling ``x`` for ``u`` on the model's two complexities,
``sigma^2 (g_alpha(x, u)^2 + g_dev(x, u)^2)``, with ``g_k = df(x, u)/ds_k``.
Users with little data lean most on the shrinkage toward ``beta``, so the
model is most curious about them, and far from the inputs they have already
labelled. A user with no data at all falls back on ``beta``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import matplotlib.pyplot as plt
import numpy as np

from sklearn_curiosity import HierarchicalCuriousRegressor
from sklearn_curiosity.query import user_influence_sampling

# %%
# Four users: many, some, few and no samples; each user its own slope.
rng = np.random.RandomState(0)
names = np.array(["ana", "ben", "cho", "dev"])
slopes = np.array([1.0, 1.6, 0.3, 1.2])
sizes = np.array([40, 12, 3, 0])
groups = np.repeat(names, sizes)
user = np.repeat(np.arange(len(names)), sizes)
X = rng.uniform(-1, 1, size=(len(groups), 1))
X[groups == "cho"] = rng.uniform(0.0, 0.5, size=(3, 1))  # cho only labelled small inputs
y = slopes[user] * X[:, 0] + 0.5 + 0.2 * rng.normal(size=len(groups))

reg = HierarchicalCuriousRegressor(alpha=1.0, deviation_alpha=2.0).fit(X, y, groups=groups)
print("users seen:", reg.users_, " shared slope:", reg.coef_.round(2))
print("per-user slopes:", reg.user_coef_[:, 0].round(2), " true:", slopes[:3])

# %%
# The curiosity over a grid of inputs, for every user (``dev`` included: a
# new user, predicted with the shared parameters), and the five most curious
# (input, user) pairs.
grid = np.linspace(-2, 2, 81)[:, np.newaxis]
rows = np.repeat(grid, len(names), axis=0)
curiosity = reg.influence_score(rows, groups=np.tile(names, len(grid))).reshape(len(grid), -1)
pairs, scores = user_influence_sampling(reg, grid, users=names, n_instances=5)
for (i, j), score in zip(pairs, scores):
    print(f"ask {names[j]} about x = {grid[i, 0]:+.2f}: expected squared influence {score:.3g}")

# %%
# Left: the data and each user's fitted line. Right: the curiosity about each
# user along ``x``; the five most curious pairs are marked.
colors = plt.cm.tab10(np.arange(len(names)))
fig, (ax_fit, ax_curious) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
for j, name in enumerate(names):
    mine = groups == name
    ax_fit.scatter(X[mine, 0], y[mine], color=colors[j], s=15)
    ax_fit.plot(
        grid[:, 0],
        reg.predict(grid, groups=[name] * len(grid)),
        color=colors[j],
        label=f"{name} ({sizes[j]} samples)",
    )
    ax_curious.plot(grid[:, 0], curiosity[:, j], color=colors[j], label=name)
ax_curious.scatter(
    grid[pairs[:, 0], 0],
    scores,
    color=colors[pairs[:, 1]],
    marker="*",
    s=150,
    edgecolor="k",
    zorder=3,
    label="most curious pairs",
)
ax_fit.set(xlabel="x", ylabel="y", title="Shared trend, per-user slopes")
ax_curious.set(
    xlabel="x", ylabel="expected squared influence", title="Which user to ask, about which x"
)
ax_fit.legend(fontsize="small")
ax_curious.legend(fontsize="small")
fig.tight_layout()
plt.show()
