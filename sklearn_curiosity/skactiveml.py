"""Plug-ins for scikit-activeml (an optional dependency).

``import sklearn_curiosity`` never imports this module; importing it needs
scikit-activeml (``pip install 'sklearn-curiosity[activelearning]'``).

- :class:`InfluenceSampling`: the model's curiosity as a scikit-activeml
  ``SingleAnnotatorPoolQueryStrategy``;
- :class:`CuriousProbabilisticRegressor`: a CuriousRegressor as a
  scikit-activeml ``ProbabilisticRegressor``, so that library's
  uncertainty-based strategies run on it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

try:
    from skactiveml.base import (
        ProbabilisticRegressor,
        SingleAnnotatorPoolQueryStrategy,
        SkactivemlRegressor,
    )
    from skactiveml.utils import MISSING_LABEL, check_type, is_labeled, simple_batch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_curiosity.skactiveml needs scikit-activeml: pip install "
        "scikit-activeml (or pip install 'sklearn-curiosity[activelearning]')."
    ) from exc

from ._regressor import CuriousRegressor
from .query import _greedy_influence, _scoring_estimator
from .scores import check_uncertainty

__all__ = ["InfluenceSampling", "CuriousProbabilisticRegressor"]


class InfluenceSampling(SingleAnnotatorPoolQueryStrategy):
    """Query the candidates with the largest expected squared influence.

    The scikit-activeml face of
    :func:`sklearn_curiosity.query.influence_sampling`: the utility of a
    candidate ``x`` is the model's curiosity, by default its epistemic part
    ``sigma^2 g(x)^2 v(x)`` (see ``uncertainty``): its expected squared
    influence on the complexity of a
    :class:`~sklearn_curiosity.CuriousRegressor` (or of a Pipeline ending in
    one) wrapped in skactiveml's ``SklearnRegressor``.

    Parameters
    ----------
    batch : {None, "greedy"}, default=None
        ``None``: the ``batch_size`` largest utilities (ties broken at random
        with ``random_state``). ``"greedy"``: after each pick the point joins
        the design with its predicted label, the tangent takes a rank-one
        update and the utilities are recomputed, so a batch spreads out.

    uncertainty : {"noise", "epistemic", "total"}, default="epistemic"
        What the expected squared influence averages over, as in
        :func:`sklearn_curiosity.query.influence_sampling` (and with its
        default): the label noise (``sigma^2 g^2``, the paper's curiosity),
        the posterior of ``f`` (``sigma^2 g^2 v``), or both (``sigma^2 g^2
        (1 + v)``).

    missing_label : scalar or string or np.nan or None, default=np.nan
        Value marking unlabelled samples in ``y``.

    random_state : int, RandomState instance or None, default=None
        Tie-breaking among equal utilities.

    Notes
    -----
    While the wrapped model cannot score (``SklearnRegressor`` could not fit
    it, e.g. no labels yet, or no residual degrees of freedom are left to
    estimate the noise variance) every candidate gets the same utility, so the
    batch is drawn uniformly at random, with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skactiveml.regressor import SklearnRegressor
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.skactiveml import InfluenceSampling
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = np.full(40, np.nan)
    >>> y[:10] = X[:10] @ [1.0, -1.0] + 0.1 * rng.normal(size=10)
    >>> reg = SklearnRegressor(CuriousRegressor(alpha=1.0))
    >>> qs = InfluenceSampling(batch="greedy", random_state=0)
    >>> indices = qs.query(X, y, reg, batch_size=3)
    >>> bool(np.all(np.isnan(y[indices])))
    True
    """

    def __init__(
        self, batch=None, uncertainty="epistemic", missing_label=MISSING_LABEL, random_state=None
    ):
        super().__init__(random_state=random_state, missing_label=missing_label)
        self.batch = batch
        self.uncertainty = uncertainty

    def query(
        self,
        X,
        y,
        reg,
        fit_reg=True,
        sample_weight=None,
        candidates=None,
        batch_size=1,
        return_utilities=False,
    ):
        """Determine for which candidate samples labels are to be queried.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data set, labelled and unlabelled samples.

        y : array-like of shape (n_samples,)
            Labels, ``missing_label`` (NaN by default) for unlabelled samples.

        reg : skactiveml.regressor.SklearnRegressor
            Wraps a :class:`~sklearn_curiosity.CuriousRegressor` or a
            Pipeline ending in one.

        fit_reg : bool, default=True
            Whether to fit (a clone of) ``reg`` on ``X``, ``y`` and
            ``sample_weight`` first.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training samples.

        candidates : None or array-like of shape (n_candidates,), dtype=int or \
                array-like of shape (n_candidates, n_features), default=None
            - ``None``: the unlabelled samples of ``(X, y)``;
            - indices of samples of ``X``;
            - candidate samples themselves (not necessarily in ``X``).

        batch_size : int, default=1
            The number of samples to select.

        return_utilities : bool, default=False
            Whether to return the utilities too.

        Returns
        -------
        query_indices : ndarray of shape (batch_size,)
            The selected samples: indices of ``X`` unless ``candidates`` holds
            samples, then indices of ``candidates``.

        utilities : ndarray of shape (batch_size, n_samples) or (batch_size, n_candidates)
            The utilities each pick was chosen from (``utilities[0]`` for the
            first), NaN for labelled samples, non-candidates and earlier picks.
            Indexed like ``query_indices``.
        """
        X, y, candidates, batch_size, return_utilities = self._validate_data(
            X, y, candidates, batch_size, return_utilities, reset=True
        )
        check_type(reg, "reg", SkactivemlRegressor)
        check_type(fit_reg, "fit_reg", bool)
        if self.batch not in (None, "greedy"):
            raise ValueError(f'batch must be None or "greedy"; got {self.batch!r}.')
        check_uncertainty(self.uncertainty)
        if fit_reg:
            # SklearnRegressor.fit has no sample_weight unless its estimator's has.
            if sample_weight is None:
                reg = clone(reg).fit(X, y)
            else:
                reg = clone(reg).fit(X, y, sample_weight=sample_weight)
        X_cand, mapping = self._transform_candidates(candidates, X, y)

        model = self._scoring_model(reg)
        if model is None:
            utilities_cand = np.zeros(len(X_cand))
        else:
            estimator, X_scored = _scoring_estimator(model, X_cand)
            if self.batch == "greedy":
                return self._greedy(
                    estimator, X_scored, X, mapping, batch_size, return_utilities
                )
            utilities_cand = estimator.influence_score(X_scored, uncertainty=self.uncertainty)

        utilities = utilities_cand
        if mapping is not None:
            utilities = np.full(len(X), np.nan)
            utilities[mapping] = utilities_cand
        return simple_batch(
            utilities,
            self.random_state_,
            batch_size=batch_size,
            return_utilities=return_utilities,
        )

    @staticmethod
    def _scoring_model(reg):
        """The fitted CuriousRegressor (or Pipeline) inside ``reg``; None if it cannot score."""
        if not getattr(reg, "is_fitted_", False):
            warnings.warn(
                "The regressor could not be fitted (no labels yet?): candidates "
                "are drawn uniformly at random.",
                UserWarning,
            )
            return None
        model = reg.estimator_
        final = model[-1] if hasattr(model, "steps") else model
        if not hasattr(final, "noise_variance_"):
            raise TypeError(
                "InfluenceSampling needs reg = SklearnRegressor(CuriousRegressor(...)) "
                f"or a Pipeline ending in one; got {type(final).__name__}."
            )
        if not np.isfinite(final.noise_variance_):
            warnings.warn(
                "The noise variance is unknown (too few labels for the model's "
                "degrees of freedom): candidates are drawn uniformly at random.",
                UserWarning,
            )
            return None
        return model

    def _greedy(self, estimator, X_scored, X, mapping, batch_size, return_utilities):
        n_cand = X_scored.shape[0]
        if batch_size > n_cand:
            warnings.warn(
                f"'batch_size={batch_size}' is larger than the number of candidate "
                f"samples; 'batch_size={n_cand}' was set instead."
            )
            batch_size = n_cand
        indices, _, utilities_cand = _greedy_influence(
            estimator, X_scored, batch_size, return_utilities=True,
            uncertainty=self.uncertainty,
        )
        utilities = utilities_cand
        if mapping is not None:
            indices = mapping[indices]
            utilities = np.full((batch_size, len(X)), np.nan)
            utilities[:, mapping] = utilities_cand
        return (indices, utilities) if return_utilities else indices


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
