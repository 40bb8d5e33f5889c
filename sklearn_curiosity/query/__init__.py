"""Query strategies: which unlabelled points to label next (:ref:`theory-curiosity`).

Every strategy shares one call::

    indices, scores = strategy(estimator, X_pool, n_instances=1, **kwargs)

``indices`` are rows of ``X_pool`` (best first, never repeated) and ``scores``
the strategy's score of each picked row when it was picked. ``estimator`` is a
fitted :class:`~sklearn_curiosity.CuriousRegressor`, a fitted
:class:`~sklearn.pipeline.Pipeline` ending in one (its earlier steps transform
the pool), or a modAL ``ActiveLearner`` wrapping either (its ``.estimator`` is
used), so the strategies drop into ``ActiveLearner(query_strategy=...)``.

- :func:`influence_sampling`: the model's curiosity, top-k expected squared
  influence, or a greedy batch that rescores the pool after each pick; the
  expectation is over the label noise, the model's posterior, or both
  (``uncertainty``);
- baselines: :func:`random_sampling`, greedy sampling on inputs
  (:func:`greedy_sampling_x`), outputs (:func:`greedy_sampling_y`) and both
  (:func:`improved_greedy_sampling`) after Wu (2019), and
  :func:`variance_sampling`;
- :func:`most_influential`: the labelled points that drive the complexity;
- :func:`run_active_learning`: a pool-based loop with a learning curve.

Strategies rank by one number per point. A model with several regularities
(``alpha`` of K strengths) is ranked by its default total: the sum over the
regularities of the expected squared influences, ``sigma^2 sum_k g_k(x)^2``,
and for labelled points (:func:`most_influential`) the summed signed influence
``(f(x) - y) sum_k g_k(x)``, the influence on the total complexity.

modAL 0.4.2.1 (its latest release) calls ``check_X_y(force_all_finite=...)``
when an ``ActiveLearner`` fits or teaches, an argument scikit-learn 1.8
removed: with a current scikit-learn, build the learner around an estimator
you fitted yourself (no ``X_training``) and refit it yourself; its ``query``
works. Do not pin an old scikit-learn for it.

References
----------
D. Wu, C.-T. Lin and J. Huang, "Active learning for regression using greedy
sampling", Information Sciences 474, 2019.
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._hierarchical import user_influence_sampling
from ._baselines import (
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    random_sampling,
    variance_sampling,
)
from ._influence import influence_sampling, most_influential
from ._loop import run_active_learning

__all__ = [
    "influence_sampling",
    "random_sampling",
    "greedy_sampling_x",
    "greedy_sampling_y",
    "improved_greedy_sampling",
    "variance_sampling",
    "most_influential",
    "run_active_learning",
    "user_influence_sampling",
]
