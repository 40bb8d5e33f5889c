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
    from skactiveml.regressor import SklearnRegressor
    from skactiveml.utils import MISSING_LABEL, check_type, is_labeled, simple_batch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_curiosity.skactiveml needs scikit-activeml: pip install "
        "scikit-activeml (or pip install 'sklearn-curiosity[activelearning]')."
    ) from exc

from ._regressor import CuriousRegressor
from .query._common import _scoring_estimator
from .query._influence import _greedy_influence
from .scores import check_uncertainty, expected_squared_influence

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

    fallback : {"random", "raise"}, default="random"
        What to do while the wrapped model cannot score: it could not be
        fitted (no labels yet, say) or no residual degrees of freedom are left
        to estimate its noise variance. ``"random"``: every candidate gets the
        same utility, so the batch is drawn uniformly at random, with a
        warning that quotes the cause. ``"raise"``: a ``ValueError`` naming
        the cause, chained to the exception that revealed it.

    Notes
    -----
    The fallback is a parameter rather than a warning category to filter: it
    belongs to the strategy's configuration (``get_params``, ``clone``), and
    ``"raise"`` keeps the original exception in the traceback.

    When every sample of ``X`` is labelled and no ``candidates`` are given
    there is nothing to query: an empty batch is returned with a warning,
    as scikit-activeml's own strategies do.

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
        self,
        batch=None,
        uncertainty="epistemic",
        missing_label=MISSING_LABEL,
        random_state=None,
        fallback="random",
    ):
        super().__init__(random_state=random_state, missing_label=missing_label)
        self.batch = batch
        self.uncertainty = uncertainty
        self.fallback = fallback

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

        reg : SklearnRegressor or CuriousProbabilisticRegressor
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
        if self.fallback not in ("random", "raise"):
            raise ValueError(f'fallback must be "random" or "raise"; got {self.fallback!r}.')
        check_uncertainty(self.uncertainty)
        X_cand, mapping = self._transform_candidates(candidates, X, y)
        if len(X_cand) == 0:
            warnings.warn(
                "Nothing to query: every sample of X is labelled (y holds no "
                f"missing_label={self.missing_label_!r}) and no candidates were "
                "given. An empty batch is returned; pass candidates=... to score "
                "other samples.",
                UserWarning,
            )
            return _empty_batch(len(X) if mapping is not None else 0, return_utilities)

        model = self._scoring_model(reg, X, y, sample_weight, fit_reg)
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

    def _scoring_model(self, reg, X, y, sample_weight, fit_reg):
        """The fitted CuriousRegressor (or Pipeline) in ``reg``, fitted first if ``fit_reg``.

        When it cannot score: ``None`` and a warning quoting the cause with
        ``fallback="random"``, a ``ValueError`` chained to the cause with
        ``"raise"``.
        """
        cause = None
        if fit_reg:
            # SklearnRegressor.fit has no sample_weight unless its estimator's has.
            fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
            try:
                reg = clone(reg).fit(X, y, **fit_params)
            except ValueError as exc:  # CuriousProbabilisticRegressor: no labels
                cause = exc
        else:
            check_is_fitted(reg)
        if cause is None and isinstance(reg, SklearnRegressor) and not reg.is_fitted_:
            # SklearnRegressor turns its estimator's exception into a warning
            # and predicts the label mean: refit to recover the real cause.
            cause = _fit_error(reg, X, y, sample_weight)
        if cause is None:
            model = reg.estimator_
            final = model[-1] if hasattr(model, "steps") else model
            if not hasattr(final, "noise_variance_"):
                raise TypeError(
                    "InfluenceSampling needs reg = SklearnRegressor(CuriousRegressor(...)) "
                    "or CuriousProbabilisticRegressor(CuriousRegressor(...)), or a "
                    f"Pipeline ending in one; got {type(final).__name__}."
                )
            try:
                expected_squared_influence(np.zeros(1), final.noise_variance_)
            except ValueError as exc:
                cause = exc
            else:
                return model
        message = f"The regressor cannot score the candidates: {cause}"
        if self.fallback == "raise":
            raise ValueError(message) from cause
        warnings.warn(
            f"{message} Candidates are drawn uniformly at random; pass "
            "fallback='raise' to InfluenceSampling to make this an error.",
            UserWarning,
        )
        return None

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


def _fit_error(reg, X, y, sample_weight):
    """The exception a ``SklearnRegressor``'s estimator raised when fitted on the labelled rows."""
    labelled = is_labeled(y, missing_label=reg.missing_label_)
    fit_params = {}
    if sample_weight is not None:
        fit_params["sample_weight"] = np.asarray(sample_weight)[labelled]
    try:
        clone(reg.estimator).fit(X[labelled], y[labelled], **fit_params)
    except Exception as exc:  # whatever SklearnRegressor caught
        return exc
    return RuntimeError(
        "SklearnRegressor could not fit its estimator, but refitting it on the "
        "labelled samples works: was reg fitted on other data (fit_reg=False)?"
    )


def _empty_batch(n_utilities, return_utilities):
    indices = np.empty(0, dtype=np.intp)
    if return_utilities:
        return indices, np.empty((0, n_utilities))
    return indices


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

    Notes
    -----
    Fitted on too few labels for the model's degrees of freedom (one label,
    say) the noise variance is NaN; fitted on constant labels it is zero. In
    both cases the predictive distribution is undefined and
    :meth:`predict_target_distribution` (and so ``predict(return_std=True)``,
    ``sample_y`` and the strategies that use them) raises a ``ValueError``
    saying so, rather than giving NaN; :meth:`predict` still gives the mean.

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
        final = self.estimator_[-1] if hasattr(self.estimator_, "steps") else self.estimator_
        noise_variance = final.noise_variance_
        if not noise_variance > 0:
            # scipy's norm with a NaN or zero scale gives NaN means and stds,
            # on which scikit-activeml's strategies fail far from the cause.
            cause = (
                "no residual degrees of freedom are left to estimate it (too few "
                f"labels for an effective dof of {final.effective_dof_:.3g})"
                if np.isnan(noise_variance)
                else "the labels are fitted exactly (constant labels, say)"
            )
            raise ValueError(
                f"The predictive distribution is undefined: the noise variance is "
                f"{noise_variance} because {cause}. Label more samples with "
                "differing values (or raise alpha) before using a strategy that "
                "needs a target distribution; predict(X) still gives the mean."
            )
        mean, std = self.estimator_.predict(X, return_std=True)
        return norm(loc=mean, scale=std)

    def predict(self, X, return_std=False, return_entropy=False):
        """Predictive mean, and optionally its std and differential entropy.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        return_std : bool, default=False
            Whether to return the predictive standard deviation.

        return_entropy : bool, default=False
            Whether to return the differential entropy.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
            The wrapped regressor's prediction.

        std : ndarray of shape (n_samples,)
            Only with ``return_std``.

        entropy : ndarray of shape (n_samples,)
            Only with ``return_entropy``.
        """
        if return_std or return_entropy:
            return super().predict(X, return_std=return_std, return_entropy=return_entropy)
        # The mean needs no noise variance: defined even where the
        # distribution is not (see predict_target_distribution).
        check_is_fitted(self)
        return self.estimator_.predict(X)
