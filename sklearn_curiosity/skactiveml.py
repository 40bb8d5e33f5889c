"""scikit-activeml integration: CuriousRegressor as a probabilistic regressor.

Importing this module needs the optional dependency scikit-activeml
(``pip install scikit-activeml``); ``import sklearn_curiosity`` does not.
"""

# SPDX-License-Identifier: BSD-3-Clause

try:
    from skactiveml.base import ProbabilisticRegressor
    from skactiveml.utils import MISSING_LABEL, is_labeled
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_curiosity.skactiveml needs the optional dependency "
        "scikit-activeml: pip install scikit-activeml"
    ) from error

import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._regressor import CuriousRegressor


class CuriousProbabilisticRegressor(ProbabilisticRegressor):
    """A CuriousRegressor as a scikit-activeml ``ProbabilisticRegressor``.

    The predictive distribution at ``x`` is the normal
    ``N(f(x), noise_variance_ + Var[f(x)])`` of
    ``CuriousRegressor.predict(X, return_std=True)``, so scikit-activeml's
    strategies that need a target distribution (ExpectedModelVarianceReduction,
    ExpectedModelOutputChange, KLDivergenceMaximization, QueryByCommittee via
    ``sample_y``) run on the curious model unchanged.

    Parameters
    ----------
    estimator : CuriousRegressor or Pipeline ending in one, default=None
        The unfitted regressor to wrap; ``None`` means ``CuriousRegressor()``.
        It is cloned at fit time.

    missing_label : scalar or np.nan, default=np.nan
        Label value that marks an unlabelled sample; those rows are dropped
        before fitting, as scikit-activeml expects.

    random_state : int, RandomState instance or None, default=None
        Seeds ``sample_y`` when it gets no ``random_state`` of its own.

    Attributes
    ----------
    estimator_ : CuriousRegressor or Pipeline
        The regressor fitted on the labelled rows.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity.skactiveml import CuriousProbabilisticRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ [1.0, -1.0] + 0.3 * rng.normal(size=30)
    >>> y[20:] = np.nan  # unlabelled pool
    >>> reg = CuriousProbabilisticRegressor().fit(X, y)
    >>> dist = reg.predict_target_distribution(X[20:])
    >>> dist.std().shape
    (10,)
    """

    def __init__(self, estimator=None, *, missing_label=MISSING_LABEL, random_state=None):
        super().__init__(missing_label=missing_label, random_state=random_state)
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None):
        """Fit the wrapped regressor on the labelled rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples, labelled and unlabelled.

        y : array-like of shape (n_samples,)
            Labels, ``missing_label`` for unlabelled samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y, sample_weight = self._validate_data(X, y, sample_weight)
        labelled = is_labeled(y, missing_label=self.missing_label_)
        if not np.any(labelled):
            raise ValueError(
                "All labels are missing: a CuriousRegressor needs at least one "
                "labelled sample (label some samples before fitting)."
            )
        estimator = CuriousRegressor() if self.estimator is None else self.estimator
        estimator = clone(estimator)
        fit_params = {}
        if sample_weight is not None:
            fit_params["sample_weight"] = np.asarray(sample_weight, dtype=np.float64)[labelled]
        estimator.fit(X[labelled], np.asarray(y[labelled], dtype=np.float64), **fit_params)
        self.estimator_ = estimator
        return self

    def predict_target_distribution(self, X):
        """The normal predictive distribution of the targets at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        dist : scipy.stats frozen ``norm``
            ``loc`` the predictive mean, ``scale`` the predictive std.
        """
        check_is_fitted(self)
        mean, std = self.estimator_.predict(X, return_std=True)
        return norm(loc=mean, scale=std)
