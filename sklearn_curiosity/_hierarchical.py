"""Multi-user (hierarchical) linear model with two regularities (:ref:`theory-hierarchical`).

Data come from many users (sites, devices, patients). Every user ``u`` shares
the parameters ``beta`` and owns a deviation ``delta_u``::

    f(x, u) = phi(x) . (beta + delta_u)
    R = alpha/2 ||beta_pen||^2 + deviation_alpha/2 sum_u ||delta_u||^2

The Hessian of the training objective is block-arrowhead: the ``beta`` block
is coupled to every user's block, the users are independent of one another.
:class:`HierarchicalHessian` eliminates the user blocks (Schur complement onto
``beta``), so a solve costs O(U q^2) after an O(U q^3) factorization and the
dense (U q)^2 matrix is never formed. The objective is quadratic: the fit is
one such solve, the two tangents two more.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np
from scipy import linalg, sparse
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._checks import (
    as_numeric_target,
    check_fit_is_finite,
    check_squares_finite,
    warn_if_curiosity_is_zero,
)
from ._pickle_version import VersionedPickleMixin
from ._utils import check_sample_weight, fitted_state_restored_on_failure
from .scores import (
    _final_step,
    check_finite_scores,
    check_uncertainty,
    estimate_noise_variance,
    expected_squared_influence,
    signed_influence,
    total_over_regularities,
    uncertainty_factor,
)

# The two regularities, in the column order of tangent_ and of every score.
REGULARITIES = ("alpha", "deviation_alpha")


class HierarchicalHessian:
    """Factorized block-arrowhead Hessian of the hierarchical objective.

    In ``theta = [beta, delta_1, ..., delta_U]`` layout (blocks of size
    ``q``), with ``G_u = Phi_u^T W_u Phi_u`` the user's weighted Gram matrix::

        H = [[sum_u G_u + alpha P,  G_1,                 ...,  G_U],
             [G_1,                  G_1 + dev_alpha I,   0,    0  ],
             [...                                                  ],
             [G_U,                  0,    0,    G_U + dev_alpha I ]]

    ``P`` masks the penalized entries of ``beta`` (not the intercept). Each
    ``G_u = V_u diag(lambda_u) V_u^T`` is diagonalized once, so the user
    blocks' inverses ``A_u^-1 = (G_u + d I)^-1`` and ``M_u = A_u^-1 G_u`` come
    in closed form, and the Schur complement of the user blocks is
    ``S = alpha P + d sum_u M_u`` (positive semi-definite by construction).

    Parameters
    ----------
    gram : ndarray of shape (n_users, q, q)
        The users' weighted Gram matrices ``G_u``.

    alpha, deviation_alpha : float
        The two regularities.

    penalized : ndarray of bool, shape (q,)
        Which entries of ``beta`` ``alpha`` penalizes.
    """

    def __init__(self, gram, alpha, deviation_alpha, penalized):
        self.alpha = alpha
        self.deviation_alpha = deviation_alpha
        self.penalized = penalized
        d = deviation_alpha
        # Batched symmetric eigendecompositions: O(U q^3), one LAPACK call each.
        eigenvalues, vectors = np.linalg.eigh(gram)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        self.eigenvalues = eigenvalues
        self.block_inverse = _from_eigen(vectors, 1.0 / (eigenvalues + d))
        self.shrunk = _from_eigen(vectors, eigenvalues / (eigenvalues + d))
        schur = d * self.shrunk.sum(axis=0)
        schur.flat[:: schur.shape[0] + 1] += alpha * penalized
        singular = (
            "The Hessian of the shared parameters is singular (alpha="
            f"{alpha!r} with collinear or constant features). Raise alpha "
            "above 0, or remove the redundant features."
        )
        try:
            self.schur_cholesky = linalg.cholesky(schur, lower=True, check_finite=False)
        except linalg.LinAlgError:
            raise ValueError(singular) from None
        pivots = np.diag(self.schur_cholesky) ** 2
        if np.any(pivots <= 1e3 * np.finfo(float).eps * np.diag(schur)):
            if alpha == 0:
                raise ValueError(singular)
            warnings.warn(
                "The Hessian of the shared parameters is ill-conditioned "
                "(nearly collinear features): the fit, the tangents and the "
                "scores may have lost most of their digits. Raise alpha, or "
                "remove redundant features.",
                linalg.LinAlgWarning,
            )

    @property
    def n_users(self):
        return self.block_inverse.shape[0]

    @property
    def block_size(self):
        return self.block_inverse.shape[1]

    def _solve_schur(self, rhs):
        return linalg.cho_solve((self.schur_cholesky, True), rhs, check_finite=False)

    def solve(self, rhs):
        """Solve ``H v = rhs``, rhs in ``theta`` layout of shape (n_params,) or (n_params, k)."""
        rhs = np.asarray(rhs, dtype=np.float64)
        q, n_users = self.block_size, self.n_users
        blocks = rhs.reshape((n_users + 1, q, -1))
        rhs_beta, rhs_users = blocks[0], blocks[1:]
        # Eliminate the user blocks: delta_u = A_u^-1 r_u - M_u beta.
        user_part = np.matmul(self.block_inverse, rhs_users)
        beta = self._solve_schur(rhs_beta - np.matmul(self.shrunk, rhs_users).sum(axis=0))
        deltas = user_part - np.matmul(self.shrunk, beta)
        solution = np.concatenate([beta[np.newaxis], deltas], axis=0)
        return solution.reshape(rhs.shape)

    def inverse_quadratic_form(self, phi, user_index):
        """``j^T H^-1 j`` for the gradients ``j`` of ``f(x, u)`` in ``theta``.

        ``j`` is ``phi(x)`` in the ``beta`` block and in user ``u``'s block
        (no user block for an unseen user, ``user_index == n_users``). With
        the blocks of ``H^-1`` (see :meth:`effective_dof`) this is ``a^T
        S^-1 a + phi^T A_u^-1 phi`` with ``a = phi - M_u phi``, and ``phi^T
        S^-1 phi`` for an unseen user: one triangular solve per row, the
        users' blocks applied user by user.
        """
        shrunk_phi = np.zeros_like(phi)
        own_part = np.zeros(len(phi))
        for user in np.unique(user_index[user_index < self.n_users]):
            rows = user_index == user
            shrunk_phi[rows] = phi[rows] @ self.shrunk[user]
            own_part[rows] = np.einsum(
                "iq,qr,ir->i", phi[rows], self.block_inverse[user], phi[rows]
            )
        z = linalg.solve_triangular(
            self.schur_cholesky, (phi - shrunk_phi).T, lower=True, check_finite=False
        )
        return np.einsum("ij,ij->j", z, z) + own_part

    def effective_dof(self):
        """Trace of the hat matrix, ``n_params - trace(H^-1 D)`` by blocks.

        ``D`` is the penalty's Hessian; ``(H^-1)_beta = S^-1`` and
        ``(H^-1)_uu = A_u^-1 + M_u S^-1 M_u``.
        """
        d = self.deviation_alpha
        schur_inverse = self._solve_schur(np.eye(self.block_size))
        # q - alpha tr(P S^-1) from beta, and per user
        # q - d tr(A_u^-1) = sum_j lambda_j / (lambda_j + d), minus d tr(S^-1 M_u^2).
        shared = self.block_size - self.alpha * np.trace(schur_inverse * self.penalized)
        per_user = np.sum(self.eigenvalues / (self.eigenvalues + d))
        squared_shrunk = np.einsum("uij,ujk->ik", self.shrunk, self.shrunk)
        coupling = d * np.sum(schur_inverse * squared_shrunk)
        return float(shared + per_user - coupling)


def _from_eigen(vectors, values):
    """``V diag(values) V^T`` for a stack of eigenbases."""
    return np.matmul(vectors * values[:, np.newaxis, :], np.swapaxes(vectors, 1, 2))


class HierarchicalCuriousRegressor(VersionedPickleMixin, RegressorMixin, BaseEstimator):
    """Multi-user linear regressor with shared and per-user parameters, and its tangents.

    Each user ``u`` (the ``groups`` label of a sample) gets the shared
    parameters ``beta`` plus its own deviation ``delta_u``. The model minimizes::

        sum_i w_i / 2 (y_i - phi(x_i) . (beta + delta_{u_i}))^2
            + alpha/2 ||beta_coef||^2 + deviation_alpha/2 sum_u ||delta_u||^2

    with ``phi(x) = [x, 1]`` (``phi(x) = x`` when ``fit_intercept=False``).
    The shared intercept is not penalized; each user's intercept deviation
    is, like its slope deviations, so that users with few samples are shrunk
    toward the population (random intercepts and random slopes of a mixed
    model). The intercept deviations are measured at ``x = 0``: standardize
    the features (a :class:`~sklearn.preprocessing.StandardScaler` before the
    estimator in a Pipeline) so that the origin is the data's center. The
    features are not centered inside the fit, because a center computed from
    the training weights would move with them and the influence of a sample
    would no longer be the exact derivative the scores claim.

    Two regularity tangents are computed with the fit, ``tangent_[:, 0] =
    d theta*/d alpha`` and ``tangent_[:, 1] = d theta*/d deviation_alpha``. The
    second says how much each user's deviation leans on the shrinkage toward
    the shared parameters: the model's curiosity about a (input, user) pair
    tells which user to ask, and about what.

    With a single user the model is exactly
    :class:`~sklearn_curiosity.CuriousRegressor` with ``alpha * deviation_alpha
    / (alpha + deviation_alpha)``: the shared intercept absorbs the user's
    intercept, and the penalty on ``beta + delta`` splits in that ratio.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularity of the shared coefficients, in ``[0, inf)``. With
        ``alpha=0`` the features must not be collinear.

    deviation_alpha : float, default=1.0
        Regularity of the users' deviations, in ``(0, inf)``: large values pull
        every user to the shared model, small ones let each user fit its own.

    fit_intercept : bool, default=True
        Whether to fit a shared (unpenalized) intercept and per-user intercept
        deviations.

    Attributes
    ----------
    users_ : ndarray of shape (n_users,)
        The distinct ``groups`` labels seen during :term:`fit`, sorted; a
        single ``None`` when fitted with ``groups=None``.

    params_ : ndarray of shape (n_params,)
        ``theta* = [beta, delta_1, ..., delta_U]`` in the order of ``users_``,
        each block ``[coef, intercept]`` (``coef`` alone without intercept)
        (``n_params = (n_users + 1) * n_params_per_user``).

    tangent_ : ndarray of shape (n_params, 2)
        The regularity tangents ``d theta*/d alpha`` and
        ``d theta*/d deviation_alpha``, in the layout of ``params_``.

    coef_ : ndarray of shape (n_features,)
        Shared coefficients (those of a user never seen at fit time).

    intercept_ : float
        Shared intercept (0.0 without intercept).

    user_coef_ : ndarray of shape (n_users, n_features)
        Each user's coefficients ``beta + delta_u``.

    user_intercept_ : ndarray of shape (n_users,)
        Each user's intercept (zeros without intercept).

    complexity_ : ndarray of shape (2,)
        ``(1/2 ||coef_||^2, 1/2 sum_u ||delta_u||^2)``: the derivatives of the
        training objective in the two regularities.

    effective_dof_ : float
        Effective degrees of freedom, the trace of the hat matrix.

    noise_variance_ : float
        Noise variance from the training residuals,
        ``sum_i w_i r_i^2 / (sum_i w_i - effective_dof_)``; NaN, with a
        warning at fit time, when no residual degrees of freedom are left.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    CuriousRegressor : The single-model estimator.
    user_influence_sampling : Which (input, user) pair to label next.

    Notes
    -----
    ``groups`` travels through scikit-learn's metadata routing: with
    ``sklearn.set_config(enable_metadata_routing=True)``, call
    ``set_fit_request(groups=True)`` (and ``set_predict_request``,
    ``set_score_request``) to use the estimator in a Pipeline or a
    ``GridSearchCV(cv=GroupKFold())``.

    ``groups=None`` stands for one anonymous user, at fit as at predict time:
    a model fitted without groups predicts for that user when called without
    groups; a model fitted with groups treats ``groups=None`` as a new user
    and predicts with the shared parameters. Users not seen at fit time have
    ``delta = 0`` and a zero tangent in their (absent) deviation block, so
    their predictions, sensitivities and scores use ``beta`` alone; the
    formulas stay exact for them (the influence of their first label acts on
    the model through ``beta``).

    The Hessian is never formed: its block-arrowhead structure is solved by
    the Schur complement of the user blocks (see ``HierarchicalHessian``),
    O(U q^3) time and O(U q^2) memory for ``U`` users and ``q`` parameters per
    user.

    Pickles record the package version, as :class:`CuriousRegressor`'s do: a
    fitted estimator from another major.minor release is refused on loading.

    References
    ----------
    F. Eaton, "Influence functions and regularity tangents for efficient
    active learning", arXiv:2411.15292, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import HierarchicalCuriousRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> groups = np.repeat(["ann", "bob", "cy"], 20)
    >>> slopes = np.array([[1.0, 0.0], [1.5, 0.0], [0.5, 0.0]])
    >>> y = np.sum(X * np.repeat(slopes, 20, axis=0), axis=1) + 0.1 * rng.normal(size=60)
    >>> reg = HierarchicalCuriousRegressor(alpha=1.0, deviation_alpha=1.0)
    >>> reg = reg.fit(X, y, groups=groups)
    >>> reg.user_coef_[:, 0].round(1)
    array([1. , 1.4, 0.5])
    >>> reg.regularity_sensitivity(X[:2], groups=["ann", "dan"]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "deviation_alpha": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, alpha=1.0, deviation_alpha=1.0, *, fit_intercept=True):
        self.alpha = alpha
        self.deviation_alpha = deviation_alpha
        self.fit_intercept = fit_intercept

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit the shared and per-user parameters and both regularity tangents.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target values.

        groups : array-like of shape (n_samples,), default=None
            The user of each sample: numbers or strings, all of one kind (as
            scikit-learn's label encoders, 1 and 1.0 are one user, 1 and "1"
            two; NaN and None are refused). ``None``: all samples come from
            one anonymous user.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples' losses; a weight of 2 counts
            a sample twice.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            Also when values of ``X``, ``y`` or ``sample_weight`` are so large
            that the fit would overflow float64 (rescale them).

        Warns
        -----
        CuriosityWarning
            When every curiosity of the fitted model is zero (a constant
            target, residuals all zero), or no residual degrees of
            freedom are left to estimate the noise variance.
        """
        with fitted_state_restored_on_failure(self):
            self._fit(X, y, groups, sample_weight)
        return self

    def _fit(self, X, y, groups, sample_weight):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        y = as_numeric_target(y)
        sample_weight = check_sample_weight(sample_weight, X)
        check_squares_finite(X, y, sample_weight)
        if groups is None:
            users = np.array([None], dtype=object)
            user_index = np.zeros(X.shape[0], dtype=np.intp)
        else:
            groups, _ = _check_labels(groups)
            check_consistent_length(X, groups)
            users, user_index = np.unique(groups, return_inverse=True)
        n_users = len(users)

        weight_sum = sample_weight.sum()
        phi = _features(X, self.fit_intercept)
        q = phi.shape[1]
        penalized = np.ones(q, dtype=bool)
        penalized[X.shape[1] :] = False

        # Z: the design in the user blocks (row i holds phi_i in block u_i),
        # scaled by sqrt(w). Z^T Z is block diagonal: the G_u in one product.
        sqrt_w = np.sqrt(sample_weight)
        design = sparse.csr_matrix(
            (
                (phi * sqrt_w[:, np.newaxis]).ravel(),
                (user_index[:, np.newaxis] * q + np.arange(q)).ravel(),
                np.arange(0, X.shape[0] * q + 1, q),
            ),
            shape=(X.shape[0], n_users * q),
        )
        gram = _diagonal_blocks(design.T @ design, n_users, q)
        user_rhs = (design.T @ (sqrt_w * y)).reshape(n_users, q)
        rhs = np.concatenate([user_rhs.sum(axis=0), user_rhs.ravel()])

        hessian = HierarchicalHessian(gram, self.alpha, self.deviation_alpha, penalized)
        params = hessian.solve(rhs)
        blocks = params.reshape(n_users + 1, q)
        alpha_gradients = np.zeros((len(params), 2))
        alpha_gradients[:q, 0] = np.where(penalized, blocks[0], 0.0)
        alpha_gradients[q:, 1] = params[q:]
        tangent = -hessian.solve(alpha_gradients)

        residuals = y - _predict_blocks(phi, blocks[0], blocks[1:], user_index)
        weighted_rss = float(sample_weight @ residuals**2)
        dof = hessian.effective_dof()
        noise_variance = estimate_noise_variance(
            weighted_rss, weight_sum, dof, remedy="raise alpha or deviation_alpha"
        )

        check_fit_is_finite(
            {"params_": params, "tangent_": tangent, "effective_dof_": dof,
             "noise_variance_": noise_variance},
            nan_allowed=("noise_variance_",),
        )
        # Constant features still leave the users' intercepts to tell apart.
        warn_if_curiosity_is_zero(X, y, sample_weight, noise_variance, tangent, linear=False)

        n_features = X.shape[1]
        shared, deviations = blocks[0], blocks[1:]
        self._hessian = hessian
        self._anonymous = groups is None
        self.users_ = users
        self.params_ = params
        self.tangent_ = tangent
        self.coef_ = shared[:n_features].copy()
        user_coef = shared[:n_features] + deviations[:, :n_features]
        self.user_coef_ = user_coef
        if self.fit_intercept:
            self.intercept_ = float(shared[-1])
            self.user_intercept_ = shared[-1] + deviations[:, -1]
        else:
            self.intercept_ = 0.0
            self.user_intercept_ = np.zeros(n_users)
        self.complexity_ = 0.5 * np.array(
            [shared[:n_features] @ shared[:n_features], params[q:] @ params[q:]]
        )
        self.effective_dof_ = dof
        self.noise_variance_ = float(noise_variance)

    # -- evaluation ---------------------------------------------------------

    def _features_and_users(self, X, groups):
        """``phi(X)`` and each row's index into ``users_`` (``n_users`` if unseen)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        n_users = len(self.users_)
        if groups is None:
            fill = 0 if self._anonymous else n_users
            user_index = np.full(X.shape[0], fill, dtype=np.intp)
        else:
            user_index = self._user_index(groups)
            check_consistent_length(X, user_index)
        return _features(X, self.fit_intercept), user_index

    def _user_index(self, groups):
        """Position of each label in ``users_``, ``n_users`` for unseen users.

        Labels match as scikit-learn's label encoders match them: 1 and 1.0
        are one user, 1 and "1" are two. Labels of another kind than the
        fitted users' can match none of them, which is a mistake, not a
        population of new users: refused.
        """
        groups, kind = _check_labels(groups)
        n_users = len(self.users_)
        if self._anonymous or len(groups) == 0:
            return np.full(len(groups), n_users, dtype=np.intp)
        _, fitted_kind = _check_labels(self.users_)
        if kind != fitted_kind:
            as_fitted = {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str"}.get(
                self.users_.dtype.kind, self.users_.dtype.name
            )
            raise ValueError(
                f"The groups labels are {kind} (such as {_plain(groups[0])!r}) but the "
                f"users seen at fit time are {fitted_kind} (such as "
                f"{_plain(self.users_[0])!r}): no label can match a fitted user (1 and "
                f"'1' are different users), so every row would be treated as a new "
                f"user. Pass the labels in the kind they had at fit time (e.g. "
                f"groups.astype({as_fitted}))."
            )
        position = np.searchsorted(self.users_, groups)
        position = np.minimum(position, n_users - 1)
        seen = self.users_[position] == groups
        return np.where(seen, position, n_users)

    def _blocks(self, flat):
        """Split a flat (n_params, ...) array into beta and zero-padded user blocks."""
        q = len(self.params_) // (len(self.users_) + 1)
        blocks = flat.reshape((len(self.users_) + 1, q) + flat.shape[1:])
        padding = np.zeros((1,) + blocks.shape[1:])
        return blocks[0], np.concatenate([blocks[1:], padding], axis=0)

    def predict(self, X, groups=None):
        """Predict ``f(x, u) = phi(x) . (beta + delta_u)`` for each sample's user.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        groups : array-like of shape (n_samples,), default=None
            The user of each sample; users not seen at fit time get the shared
            model. ``None``: the anonymous user (see Notes of the class).
            Labels of another kind than at fit time (strings for a model
            fitted on numbers, or the reverse) raise a ValueError: they
            could match no fitted user.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        phi, user_index = self._features_and_users(X, groups)
        return check_finite_scores(_predict_blocks(phi, *self._blocks(self.params_), user_index))

    def score(self, X, y, groups=None, sample_weight=None):
        """Coefficient of determination of ``predict(X, groups)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,)
            True values.

        groups : array-like of shape (n_samples,), default=None
            The user of each sample, as in :meth:`predict`.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of the predictions.
        """
        return r2_score(y, self.predict(X, groups), sample_weight=sample_weight)

    def regularity_sensitivity(self, X, groups=None):
        """Sensitivity of the predictions to each regularity, ``g_k(x, u) = df(x, u)/ds_k``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        groups : array-like of shape (n_samples,), default=None
            The user of each sample, as in :meth:`predict`.

        Returns
        -------
        sensitivity : ndarray of shape (n_samples, 2)
            Columns ``df/dalpha`` and ``df/ddeviation_alpha``.
        """
        phi, user_index = self._features_and_users(X, groups)
        return check_finite_scores(_predict_blocks(phi, *self._blocks(self.tangent_), user_index))

    def influence_score(
        self, X, y=None, groups=None, *, per_regularity=False, uncertainty="noise"
    ):
        """Influence of each (sample, user) on the model's two complexities.

        With labels, the signed influence ``I_k = (f(x, u) - y) g_k(x, u)`` on
        each complexity ``complexity_[k]`` (the rate at which it changes as
        the sample's weight grows); their total is the influence on the sum
        of the two complexities.

        Without labels, the expected squared influence under
        ``y ~ N(f(x, u), noise_variance_)``, ``E[I_k^2] = noise_variance_ *
        g_k(x, u)^2``; their total ``E[I_0^2 + I_1^2]`` (:ref:`theory-several`)
        is the model's curiosity about the pair. Note that it is the expected
        squared norm of the per-regularity influences, not the expected square
        of the labelled total.

        ``uncertainty`` says what the expectation is over, as for
        :meth:`CuriousRegressor.influence_score`: "epistemic" and "total"
        multiply by ``v`` or ``1 + v`` with ``v(x, u) = grad f^T H^-1 grad
        f``, the Laplace posterior variance of ``f(x, u)`` over
        ``noise_variance_`` (``H``: this model's exact Hessian, the linear
        model's Laplace Hessian).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        y : array-like of shape (n_samples,), default=None
            Labels, if known.

        groups : array-like of shape (n_samples,), default=None
            The user of each sample, as in :meth:`predict`.

        per_regularity : bool, default=False
            Return one column per regularity (``alpha``, ``deviation_alpha``)
            instead of their total.

        uncertainty : {"noise", "epistemic", "total"}, default="noise"
            Without labels: over the label noise (``noise_variance_ *
            g_k^2``), the posterior of ``f`` (times ``v``) or both (times
            ``1 + v``). With ``y``, only "noise" is accepted.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, 2)
            Signed influence (with ``y``) or expected squared influence
            (without).
        """
        check_uncertainty(uncertainty, y)
        phi, user_index = self._features_and_users(X, groups)
        sensitivity = _predict_blocks(phi, *self._blocks(self.tangent_), user_index)
        if y is None:
            factor = uncertainty_factor(
                uncertainty,
                None
                if uncertainty == "noise"
                else self._hessian.inverse_quadratic_form(phi, user_index),
            )
            scores = expected_squared_influence(sensitivity, self.noise_variance_, factor)
        else:
            y = as_numeric_target(column_or_1d(y, warn=True))
            check_consistent_length(phi, y)
            prediction = _predict_blocks(phi, *self._blocks(self.params_), user_index)
            scores = signed_influence(prediction, sensitivity, y)
        return check_finite_scores(total_over_regularities(scores, per_regularity))


def _check_labels(groups):
    """``(labels, kind)``: the users' labels as a 1-D array of one kind.

    The kind is "numbers", "strings", "bytes" or "datetimes". A missing label
    (NaN, None, NaT) has no user to stand for, and labels of several kinds
    cannot be ordered or matched consistently: both are refused. An object
    array of one kind is converted to the typed array NumPy gives it, so that
    labels compare as values.
    """
    groups = column_or_1d(groups, warn=True)
    dtype_kind = groups.dtype.kind
    if dtype_kind == "O":
        kinds = set()
        for position, label in enumerate(groups):
            if label is None or (isinstance(label, Real) and label != label):
                raise ValueError(
                    f"groups has a missing label ({_plain(label)!r} at position {position}): "
                    "every sample needs a user. Drop those rows or give them a label."
                )
            kind = _label_kind_of(label)
            if kind is None:
                raise ValueError(
                    "groups labels must be numbers or strings; got "
                    f"{label!r} of type {type(label).__name__} at position {position}."
                )
            kinds.add(kind)
        if len(kinds) > 1:
            raise ValueError(
                "groups mixes labels of several kinds "
                f"({' and '.join(sorted(kinds))}): 1 and '1' would be "
                "different users, and their order is undefined. Give every label "
                "the same kind, e.g. groups.astype(str)."
            )
        if len(groups):
            groups = np.asarray(groups.tolist())
        kind = kinds.pop() if kinds else "strings"
        return groups, kind
    kind = {"b": "numbers", "i": "numbers", "u": "numbers", "f": "numbers", "U": "strings",
            "S": "bytes", "M": "datetimes", "m": "datetimes"}.get(dtype_kind)
    if kind is None:
        raise ValueError(
            f"groups labels must be numbers or strings; got an array of dtype {groups.dtype}."
        )
    missing = np.isnan(groups) if dtype_kind == "f" else (
        np.isnat(groups) if kind == "datetimes" else np.zeros(len(groups), dtype=bool)
    )
    if missing.any():
        position = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"groups has a missing label ({_plain(groups[position])!r} at position {position}): "
            "every sample needs a user. Drop those rows or give them a label."
        )
    return groups, kind


def _plain(label):
    """A NumPy scalar as the Python value it holds, for messages."""
    return label.item() if isinstance(label, np.generic) else label


def _label_kind_of(label):
    if isinstance(label, str):
        return "strings"
    if isinstance(label, bytes):
        return "bytes"
    if isinstance(label, (Real, np.bool_)):
        return "numbers"
    return None  # anything else is refused


def _features(X, fit_intercept):
    """``phi(X)``: the features, and a column of ones for the intercept."""
    return np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X


def _diagonal_blocks(matrix, n_blocks, size):
    """The (n_blocks, size, size) diagonal blocks of a block-diagonal sparse matrix."""
    matrix = matrix.tocoo()
    blocks = np.zeros((n_blocks, size, size))
    blocks[matrix.row // size, matrix.row % size, matrix.col % size] = matrix.data
    return blocks


def _predict_blocks(phi, shared, users, user_index):
    """``phi_i . (shared + users[u_i])`` for every row; trailing axes broadcast.

    ``shared`` has shape (q,) or (q, k), ``users`` (n_users(+1), q) or
    (n_users(+1), q, k).
    """
    own = users[user_index]
    return phi @ shared + np.einsum("iq,iq...->i...", phi, own)


def user_influence_sampling(estimator, X_pool, users=None, n_instances=1):
    """Which user to ask, and about which input: the most curious (input, user) pairs.

    Scores every pair of a candidate input and a user by the model's expected
    squared influence ``noise_variance_ * sum_k g_k(x, u)^2`` (summed over the
    two regularities) and returns the best ``n_instances`` pairs. Users with no
    data yet are welcome: they fall back on the shared parameters, and their
    scores say what a first label from them would teach the shared model.

    Parameters
    ----------
    estimator : HierarchicalCuriousRegressor or Pipeline
        A fitted :class:`HierarchicalCuriousRegressor`, or a fitted Pipeline
        ending in one (the earlier steps transform ``X_pool``).

    X_pool : array-like of shape (n_candidates, n_features)
        Candidate inputs.

    users : array-like of shape (n_users,), default=None
        Candidate users, seen at fit time or not. ``None``: the users seen at
        fit time (``estimator.users_``).

    n_instances : int, default=1
        Number of pairs to return, between 1 and ``n_candidates * n_users``.

    Returns
    -------
    pairs : ndarray of shape (n_instances, 2)
        Integer rows ``(index into X_pool, index into users)``, best first.

    scores : ndarray of shape (n_instances,)
        The expected squared influence of each returned pair.

    Notes
    -----
    The score matrix holds ``n_candidates * n_users`` entries; score a very
    large pool in chunks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import HierarchicalCuriousRegressor
    >>> from sklearn_curiosity._hierarchical import user_influence_sampling
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 1))
    >>> groups = np.repeat([0, 1], 20)
    >>> y = X[:, 0] * np.repeat([1.0, 2.0], 20) + 0.1 * rng.normal(size=40)
    >>> reg = HierarchicalCuriousRegressor().fit(X, y, groups=groups)
    >>> pairs, scores = user_influence_sampling(reg, [[0.0], [3.0]], users=[0, 1, 2])
    >>> pairs.tolist()
    [[1, 2]]
    """
    # Imported here: query imports this module.
    from .query._common import _check_n_instances

    estimator, X_pool = _final_step(estimator, X_pool)
    if not isinstance(estimator, HierarchicalCuriousRegressor):
        raise TypeError(
            "user_influence_sampling needs a fitted HierarchicalCuriousRegressor "
            f"(or a Pipeline ending in one); got {type(estimator).__name__}."
        )
    phi, _ = estimator._features_and_users(X_pool, None)
    if users is None:
        user_index = np.arange(len(estimator.users_))
    else:
        user_index = estimator._user_index(column_or_1d(users, warn=True))
    n_instances = _check_n_instances(n_instances, phi.shape[0] * len(user_index))
    shared, per_user = estimator._blocks(estimator.tangent_)
    # g[i, j, k] = phi_i . (tau_beta,k + tau_delta_{u_j},k): one (n, q) x (q, U k) product.
    sensitivity = (phi @ shared)[:, np.newaxis, :] + np.einsum(
        "iq,jqk->ijk", phi, per_user[user_index]
    )
    # One row per candidate input: a row that overflows is named.
    scores = check_finite_scores(
        expected_squared_influence(sensitivity, estimator.noise_variance_).sum(axis=2)
    )
    flat = np.argsort(-scores, axis=None, kind="stable")[:n_instances]
    pairs = np.column_stack(np.unravel_index(flat, scores.shape))
    return pairs, scores.ravel()[flat]
