"""
=====================================
A map of a neural network's curiosity
=====================================

A small neural network, ``CuriousRegressor(model="mlp")``, learns a smooth
function of two features from 35 noisy labels that leave the top-right corner
of the square empty. Over a grid of the square we draw three maps:

- the fit ``f(x)``;
- the regularity sensitivity ``g(x) = df(x)/dalpha``
  (:meth:`~sklearn_curiosity.CuriousRegressor.regularity_sensitivity`): how
  the prediction at ``x`` would move if the network were regularized harder
  (red: up, blue: down). A harder penalty flattens the fit, so ``g`` is
  large on the fitted bumps, with the sign that pulls them toward the mean,
  and where the fit extrapolates beyond the labels with nothing but the
  penalty to hold it;
- the curiosity :func:`~sklearn_curiosity.influence_score` of an unlabelled
  ``x``, ``noise_variance_ * g(x)^2``: the expected squared influence of its
  label on the model's complexity. The bright places are where a label
  would change the network most: label them first.

``g`` for the whole grid is one forward-mode pass of the network carrying the
tangent, not one gradient per point.
"""

# SPDX-License-Identifier: BSD-3-Clause

import matplotlib.pyplot as plt
import numpy as np

from sklearn_curiosity import CuriousRegressor, influence_score

rng = np.random.RandomState(0)
X = rng.uniform(-2, 2, size=(40, 2))
X = X[(X[:, 0] < 0.8) | (X[:, 1] < 0.0)]  # no labels in the top-right corner
y = np.sin(1.5 * X[:, 0]) * np.cos(X[:, 1]) + 0.1 * rng.normal(size=len(X))

# A regularity large enough for the network to stop at a true minimum (a
# positive definite Hessian), so the tangent needs no damping.
model = CuriousRegressor(
    model="mlp", alpha=0.1, hidden_layer_sizes=(20,), max_iter=1000, random_state=0
).fit(X, y)
print(f"{len(X)} labels; tangent solver {model.tangent_solver_!r}; "
      f"noise sd {np.sqrt(model.noise_variance_):.3f}")

# %%
# The three maps
# --------------

grid = np.linspace(-2.5, 2.5, 80)
x1, x2 = np.meshgrid(grid, grid)
X_grid = np.column_stack([x1.ravel(), x2.ravel()])
fit = model.predict(X_grid)
sensitivity = model.regularity_sensitivity(X_grid)
curiosity = influence_score(model, X_grid)

bound = np.abs(sensitivity).max()
maps = [
    ("fit f(x)", fit, {"cmap": "viridis"}),
    ("g(x) = df/dalpha", sensitivity, {"cmap": "RdBu_r", "vmin": -bound, "vmax": bound}),
    ("curiosity  noise_variance * g(x)^2", curiosity, {"cmap": "magma"}),
]
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (title, values, style) in zip(axes, maps):
    image = ax.pcolormesh(x1, x2, values.reshape(x1.shape), shading="auto", **style)
    ax.scatter(X[:, 0], X[:, 1], c="white", edgecolor="black", s=18, label="labelled")
    ax.set_title(title)
    ax.set_xlabel("x1")
    fig.colorbar(image, ax=ax)
axes[0].set_ylabel("x2")
axes[0].legend(loc="lower left")
fig.tight_layout()

# %%
# Where to label next
# -------------------
# The curiosity is zero where ``g`` changes sign (the prediction there does
# not depend on alpha) and grows with ``g^2`` elsewhere: on the bumps the
# penalty flattens and on the edges of the square, where the network
# extrapolates. The most curious grid point is away from every label.

best = X_grid[np.argmax(curiosity)]
distance = np.min(np.linalg.norm(X - best, axis=1))
print(f"most curious point: ({best[0]:.2f}, {best[1]:.2f}), "
      f"{distance:.2f} from the nearest label")
plt.show()
