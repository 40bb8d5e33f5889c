"""sklearn_curiosity: regression models with a sense of curiosity about their data.

A model trained with a regularizer of strength ``alpha`` carries its regularity
tangent ``d theta*/d alpha``; its inner product with a point's loss gradient is
the point's influence on the model's complexity, and the expected square of
that influence tells which unlabelled points to label next.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._cv import CuriousRegressorCV
from ._hierarchical import HierarchicalCuriousRegressor
from ._regressor import CuriousRegressor
from .exceptions import CuriosityWarning
from .scores import influence_score, regularity_sensitivity

__version__ = "0.1.0"

__all__ = [
    "CuriousRegressor",
    "CuriousRegressorCV",
    "CuriosityWarning",
    "HierarchicalCuriousRegressor",
    "influence_score",
    "regularity_sensitivity",
    "__version__",
]
