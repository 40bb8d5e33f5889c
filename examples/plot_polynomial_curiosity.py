"""
==========================================================
Curiosity of a high-degree polynomial fit in one dimension
==========================================================

The worked problem of the paper (F. Eaton, arXiv:2411.15292): a smooth
one-dimensional function observed with noise at a handful of points, fitted
with a high-degree polynomial under an L2 penalty whose strength ``alpha`` is
chosen by leave-one-out. The fitted model carries its regularity tangent
``tau = d theta* / d alpha``, which gives, at every ``x``,

- the regularity sensitivity ``g(x) = d f(x) / d alpha``: how the prediction
  moves when the model is regularized a little harder;
- the curiosity ``sigma^2 g(x)^2``: the expected squared influence that a
  label at ``x`` would have on the model's complexity.
"""

# %%
# Data and model
# --------------
# Noisy samples of a smooth function, with a gap in the middle of the
# interval and none near its right end. The basis is a degree-15 polynomial
# (standardized monomials); :class:`~sklearn_curiosity.CuriousRegressorCV`
# picks ``alpha`` on a grid by exact leave-one-out, from one
# eigendecomposition, and refits at the chosen value.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_curiosity import CuriousRegressorCV, influence_score, regularity_sensitivity

rng = np.random.RandomState(0)
x_train = np.concatenate([rng.uniform(-1.0, -0.25, 18), rng.uniform(0.2, 0.7, 12)])
y_train = np.sin(3 * x_train) + 0.3 * x_train**2 + rng.normal(scale=0.15, size=x_train.size)
X_train = x_train[:, np.newaxis]

alphas = np.logspace(-7, 2, 46)
model = make_pipeline(
    PolynomialFeatures(degree=15, include_bias=False),
    StandardScaler(),
    CuriousRegressorCV(alphas=alphas),
).fit(X_train, y_train)
search = model[-1]
print(f"alpha chosen by leave-one-out: {search.alpha_:.3g}")
print(f"noise standard deviation: {np.sqrt(search.noise_variance_):.3f} (true 0.15)")

# %%
# Fit, sensitivity and curiosity across ``x``
# -------------------------------------------
# The module-level functions take the whole pipeline: the polynomial features
# are computed for the pool first.

x_pool = np.linspace(-1.05, 1.05, 400)
X_pool = x_pool[:, np.newaxis]
prediction = model.predict(X_pool)
sensitivity = regularity_sensitivity(model, X_pool)
curiosity = influence_score(model, X_pool)

fig, axes = plt.subplots(4, 1, figsize=(7, 10), sharex=False, constrained_layout=True)
ax = axes[0]
ax.semilogx(search.cv_results_["param_alpha"], -search.cv_results_["mean_test_score"], ".-")
ax.axvline(search.alpha_, color="k", ls=":")
ax.set_xlabel("alpha")
ax.set_ylabel("LOO mean squared error")
ax.set_title("Leave-one-out error over the grid")

ax = axes[1]
ax.plot(x_pool, np.sin(3 * x_pool) + 0.3 * x_pool**2, color="0.6", label="truth")
ax.plot(x_pool, prediction, color="C0", label=f"fit, alpha={search.alpha_:.2g}")
ax.plot(x_train, y_train, "k.", label="labelled")
ax.set_ylim(-2, 2)
ax.set_ylabel("y")
ax.legend(loc="upper left", fontsize="small")
ax.set_title("Fit")

ax = axes[2]
ax.plot(x_pool, sensitivity, color="C1")
ax.axhline(0, color="0.6", lw=0.8)
ax.plot(x_train, np.zeros_like(x_train), "k|")
ax.set_ylabel("g(x) = df(x)/dalpha")
ax.set_title("Regularity sensitivity")

ax = axes[3]
ax.semilogy(x_pool, curiosity, color="C3")
ax.plot(x_train, np.full_like(x_train, curiosity.min()), "k|")
best = x_pool[np.argmax(curiosity)]
ax.axvline(best, color="k", ls=":")
ax.set_xlabel("x")
ax.set_ylabel("sigma^2 g(x)^2")
ax.set_title(f"Curiosity (largest at x = {best:.2f})")
for ax in axes[1:]:
    ax.set_xlim(x_pool[0], x_pool[-1])

# %%
# How to read the plots
# ---------------------
# - The leave-one-out curve is the error of predicting each labelled point
#   from all the others, for every ``alpha`` of the grid; the dotted line marks
#   its minimum, the ``alpha`` the model is refitted with.
# - ``g(x)`` is where the fit would move if ``alpha`` grew: near the labelled
#   points it is small, because the data pin the curve there; in the gap,
#   beyond the last labels, and at the ends of the interval the polynomial is
#   held in shape mostly by the penalty, so a tighter penalty moves it most.
#   Its units are those of ``y`` per unit of ``alpha``.
# - The curiosity ``sigma^2 g(x)^2`` turns this into the expected squared
#   change of the model's complexity that a label at ``x`` would cause (log
#   scale: it spans orders of magnitude). It is largest beyond the last labels
#   on the right, where the polynomial swings freely, next in the gap and at
#   the left end, and smallest among the labelled points: querying its maximum
#   (the dotted line) and refitting pins down the least constrained part of
#   the curve first. The sharp dips are where ``g`` changes sign: there the
#   prediction does not move with ``alpha`` to first order, so a label would
#   barely change the complexity, however uncertain the fit.

plt.show()
