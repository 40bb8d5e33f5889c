"""HierarchicalCuriousRegressor against independent oracles: the dense Hessian
assembled from the data, finite differences of refits (in each regularity and
in a sample's weight), the single-model CuriousRegressor and Ridge, and
brute-force cross-validation."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_curiosity import CuriousRegressor, HierarchicalCuriousRegressor
from sklearn_curiosity.query import user_influence_sampling


def make_users(n_users=5, n_features=3, seed=0, sizes=None):
    """Users with their own slopes and offsets; user sizes from 1 to many."""
    rng = np.random.RandomState(seed)
    if sizes is None:
        sizes = rng.randint(1, 15, size=n_users)
    groups = np.repeat(np.arange(n_users) * 10 + 7, sizes)  # labels are not 0..U-1
    n = len(groups)
    X = rng.normal(size=(n, n_features)) * rng.uniform(0.5, 2, n_features) + 1.5
    shared = rng.normal(size=n_features)
    own = shared + 0.5 * rng.normal(size=(n_users, n_features))
    user = np.repeat(np.arange(n_users), sizes)
    y = np.sum(X * own[user], axis=1) + rng.normal(size=n_users)[user] + 2.0
    y += rng.normal(scale=0.3, size=n)
    sample_weight = rng.uniform(0.2, 3.0, size=n)
    return X, y, groups, sample_weight


def dense_problem(X, y, groups, w, alpha, deviation_alpha, fit_intercept):
    """Assemble the design, Hessian and gradient densely from the definition."""
    users = np.unique(groups)
    if fit_intercept:
        phi = np.column_stack([X, np.ones(len(X))])
    else:
        phi = X
    q = phi.shape[1]
    blocks = [phi] + [phi * (groups == u)[:, None] for u in users]
    Z = np.hstack(blocks)
    penalty = np.concatenate(
        [
            np.r_[np.full(X.shape[1], alpha), np.zeros(q - X.shape[1])],
            np.full(q * len(users), deviation_alpha),
        ]
    )
    H = Z.T @ (w[:, None] * Z) + np.diag(penalty)
    return Z, H, Z.T @ (w * y)


def central_difference(func, x, h):
    return (func(x + h) - func(x - h)) / (2 * h)


def relative_error(actual, expected):
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_and_block_solve_equal_the_dense_solve(fit_intercept, weighted):
    X, y, groups, w = make_users()
    w = w if weighted else np.ones(len(y))
    reg = HierarchicalCuriousRegressor(0.7, 2.0, fit_intercept=fit_intercept)
    reg.fit(X, y, groups, sample_weight=w if weighted else None)
    Z, H, gradient = dense_problem(X, y, groups, w, 0.7, 2.0, fit_intercept)

    np.testing.assert_allclose(reg.params_, np.linalg.solve(H, gradient), atol=1e-10)
    rng = np.random.RandomState(1)
    for rhs in (rng.normal(size=len(H)), rng.normal(size=(len(H), 3))):
        np.testing.assert_allclose(reg._hessian.solve(rhs), np.linalg.solve(H, rhs), atol=1e-10)
    np.testing.assert_allclose(reg.predict(X, groups), Z @ reg.params_, atol=1e-10)

    # Effective dof: the trace of the dense hat matrix Z H^-1 Z^T W.
    hat = Z @ np.linalg.solve(H, Z.T * w)
    np.testing.assert_allclose(reg.effective_dof_, np.trace(hat), rtol=1e-10)
    residuals = y - hat @ y
    np.testing.assert_allclose(
        reg.noise_variance_, w @ residuals**2 / (w.sum() - np.trace(hat)), rtol=1e-9
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha, deviation_alpha", [(0.05, 0.3), (2.0, 1.0), (50.0, 20.0)])
def test_tangents_equal_finite_differences_of_refits(fit_intercept, alpha, deviation_alpha):
    X, y, groups, w = make_users(seed=2)
    reg = HierarchicalCuriousRegressor(alpha, deviation_alpha, fit_intercept=fit_intercept)
    reg.fit(X, y, groups, sample_weight=w)

    def refit(**strengths):
        return clone(reg).set_params(**strengths).fit(X, y, groups, sample_weight=w)

    def objective(fitted):
        q = X.shape[1] + int(fit_intercept)
        residuals = y - fitted.predict(X, groups)
        deviations = fitted.params_[q:]
        return (
            0.5 * w @ residuals**2
            + 0.5 * fitted.alpha * fitted.coef_ @ fitted.coef_
            + 0.5 * fitted.deviation_alpha * deviations @ deviations
        )

    for column, name, value in [(0, "alpha", alpha), (1, "deviation_alpha", deviation_alpha)]:
        h = 1e-4 * value
        fd = central_difference(lambda s: refit(**{name: s}).params_, value, h)
        assert relative_error(reg.tangent_[:, column], fd) < 1e-6
        fd_prediction = central_difference(
            lambda s: refit(**{name: s}).predict(X, groups), value, h
        )
        np.testing.assert_allclose(
            reg.regularity_sensitivity(X, groups)[:, column],
            fd_prediction,
            atol=1e-6 * np.max(np.abs(fd_prediction)),
        )
        # The envelope theorem: complexity_[k] is the optimal objective's derivative in s_k.
        fd_objective = central_difference(lambda s: objective(refit(**{name: s})), value, h)
        np.testing.assert_allclose(reg.complexity_[column], fd_objective, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("a, d", [(1.0, 1.0), (0.2, 5.0), (30.0, 0.5)])
def test_one_user_is_the_single_model_with_the_combined_alpha(fit_intercept, a, d):
    X, y, _, w = make_users(n_users=1, sizes=[40], seed=3)
    combined = a * d / (a + d)
    ours = HierarchicalCuriousRegressor(a, d, fit_intercept=fit_intercept).fit(
        X, y, sample_weight=w
    )
    single = CuriousRegressor(alpha=combined, fit_intercept=fit_intercept).fit(
        X, y, sample_weight=w
    )
    ridge = Ridge(alpha=combined, fit_intercept=fit_intercept, solver="cholesky").fit(
        X, y, sample_weight=w
    )

    np.testing.assert_allclose(ours.user_coef_[0], ridge.coef_, atol=1e-9)
    np.testing.assert_allclose(ours.user_intercept_[0], ridge.intercept_, atol=1e-9)
    np.testing.assert_allclose(ours.predict(X), single.predict(X), atol=1e-9)
    np.testing.assert_allclose(ours.effective_dof_, single.effective_dof_, rtol=1e-10)
    np.testing.assert_allclose(ours.noise_variance_, single.noise_variance_, rtol=1e-9)
    # beta carries d/(a+d) of the combined coefficients, delta a/(a+d).
    np.testing.assert_allclose(ours.coef_, d / (a + d) * ridge.coef_, atol=1e-9)

    # Chain rule through s = a d / (a + d): df/da = df/ds d^2/(a+d)^2, df/dd = df/ds a^2/(a+d)^2.
    g = single.regularity_sensitivity(X)
    expected = np.column_stack([g * d**2 / (a + d) ** 2, g * a**2 / (a + d) ** 2])
    np.testing.assert_allclose(
        ours.regularity_sensitivity(X), expected, atol=1e-9 * np.abs(g).max()
    )
    np.testing.assert_allclose(
        ours.influence_score(X),
        single.noise_variance_ * np.sum(expected**2, axis=1),
        atol=1e-9 * single.influence_score(X).max(),
    )


def test_unseen_users_fall_back_on_the_shared_parameters():
    X, y, groups, _ = make_users(seed=4)
    reg = HierarchicalCuriousRegressor(1.0, 0.5).fit(X, y, groups)
    phi = np.column_stack([X, np.ones(len(X))])
    q = phi.shape[1]
    new = np.full(len(X), 999)
    np.testing.assert_allclose(reg.predict(X, new), X @ reg.coef_ + reg.intercept_, atol=1e-12)
    np.testing.assert_allclose(reg.predict(X, new), phi @ reg.params_[:q], atol=1e-12)
    np.testing.assert_allclose(
        reg.regularity_sensitivity(X, new), phi @ reg.tangent_[:q], atol=1e-12
    )
    # Seen users get their own coefficients.
    first = groups == groups[0]
    np.testing.assert_allclose(
        reg.predict(X[first], groups[first]), X[first] @ reg.user_coef_[0] + reg.user_intercept_[0]
    )
    # A model fitted with groups treats groups=None as a new user.
    np.testing.assert_array_equal(reg.predict(X), reg.predict(X, new))
    # String labels are compared with string labels.
    reg_str = HierarchicalCuriousRegressor(1.0, 0.5).fit(X, y, groups.astype(str))
    np.testing.assert_allclose(reg_str.predict(X, groups.astype(str)), reg.predict(X, groups))
    np.testing.assert_allclose(reg_str.predict(X, ["nobody"] * len(X)), reg.predict(X, new))


def test_labelled_influence_equals_finite_differences_of_weight_refits():
    """I_k(x, y, u) = d complexity_[k] / d(weight of the sample), for seen and new users."""
    X, y, groups, w = make_users(seed=5)
    reg = HierarchicalCuriousRegressor(0.8, 1.5).fit(X, y, groups, sample_weight=w)
    rng = np.random.RandomState(0)
    x_new = rng.normal(size=(2, X.shape[1]))
    y_new = np.array([3.0, -1.0])
    users_new = np.array([groups[0], 12345])  # a seen user, a new one
    scores = reg.influence_score(x_new, y_new, users_new, per_regularity=True)
    eps = 1e-6
    for row in range(2):
        bigger = clone(reg).fit(
            np.vstack([X, x_new[row]]),
            np.r_[y, y_new[row]],
            np.r_[groups, users_new[row]],
            sample_weight=np.r_[w, eps],
        )
        fd = (bigger.complexity_ - reg.complexity_) / eps
        np.testing.assert_allclose(scores[row], fd, rtol=1e-4, atol=1e-8 * np.abs(fd).max())
    np.testing.assert_allclose(
        reg.influence_score(x_new, y_new, users_new), scores.sum(axis=1), rtol=1e-12
    )


def test_unlabelled_score_is_the_expected_squared_influence():
    """Monte Carlo over y ~ N(f, sigma^2) of the labelled per-regularity influence."""
    X, y, groups, _ = make_users(seed=6)
    reg = HierarchicalCuriousRegressor(0.5, 0.5).fit(X, y, groups)
    x = X[:3]
    u = np.array([groups[0], groups[-1], -1])
    f = reg.predict(x, u)
    rng = np.random.RandomState(0)
    n_draws = 20000
    draws = f + np.sqrt(reg.noise_variance_) * rng.normal(size=(n_draws, 3))
    influence = reg.influence_score(
        np.tile(x, (n_draws, 1)), draws.ravel(), np.tile(u, n_draws), per_regularity=True
    )
    mc = np.mean(np.sum(influence**2, axis=1).reshape(n_draws, 3), axis=0)
    np.testing.assert_allclose(reg.influence_score(x, groups=u), mc, rtol=0.05)


def test_user_influence_sampling_ranks_all_pairs_and_new_users():
    X, y, groups, _ = make_users(seed=7)
    reg = HierarchicalCuriousRegressor(1.0, 1.0).fit(X, y, groups)
    pool = np.random.RandomState(1).normal(size=(6, X.shape[1])) * 3
    users = np.r_[np.unique(groups), [-5, -6]]
    pairs, scores = user_influence_sampling(reg, pool, users, n_instances=len(pool) * len(users))
    # Brute force: score every pair through the estimator, one row per pair.
    rows, cols = np.meshgrid(np.arange(len(pool)), np.arange(len(users)), indexing="ij")
    brute = reg.influence_score(pool[rows.ravel()], groups=users[cols.ravel()]).reshape(rows.shape)
    np.testing.assert_allclose(scores, brute[pairs[:, 0], pairs[:, 1]], rtol=1e-12)
    assert np.all(np.diff(scores) <= 0)
    assert len({tuple(p) for p in pairs}) == brute.size
    # Two new users are the same (no data): their scores tie.
    np.testing.assert_allclose(brute[:, -1], brute[:, -2])
    top, top_score = user_influence_sampling(reg, pool, users)
    assert tuple(top[0]) == np.unravel_index(np.argmax(brute), brute.shape)
    # users=None: the users seen at fit time.
    _, seen_scores = user_influence_sampling(reg, pool, n_instances=3)
    np.testing.assert_allclose(seen_scores, np.sort(brute[:, :-2].ravel())[::-1][:3])
    with pytest.raises(ValueError, match="n_instances"):
        user_influence_sampling(reg, pool, n_instances=0)
    with pytest.raises(TypeError, match="HierarchicalCuriousRegressor"):
        user_influence_sampling(CuriousRegressor().fit(X, y), pool)


def test_groups_none_is_one_anonymous_user():
    X, y, _, _ = make_users(n_users=1, sizes=[30], seed=8)
    anonymous = HierarchicalCuriousRegressor().fit(X, y)
    named = HierarchicalCuriousRegressor().fit(X, y, np.zeros(len(y)))
    np.testing.assert_allclose(anonymous.predict(X), named.predict(X, np.zeros(len(y))))
    np.testing.assert_allclose(anonymous.params_, named.params_)
    # The query strategy's default users are the users seen at fit: here the anonymous one.
    pool = X[:5] * 3
    _, scores = user_influence_sampling(anonymous, pool, n_instances=5)
    np.testing.assert_allclose(np.sort(scores), np.sort(anonymous.influence_score(pool)))
    # Any label is a new user to the anonymous model.
    np.testing.assert_allclose(
        anonymous.predict(X, np.zeros(len(y))), named.predict(X, np.ones(len(y)))
    )


def test_bad_input_is_rejected_and_leaves_nothing_fitted():
    X, y, groups, _ = make_users(seed=9)
    reg = HierarchicalCuriousRegressor(deviation_alpha=0.0)
    with pytest.raises(InvalidParameterError, match="deviation_alpha"):
        reg.fit(X, y, groups)
    reg = HierarchicalCuriousRegressor()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        reg.fit(X, y, groups[:-1])
    assert not hasattr(reg, "n_features_in_")
    with pytest.raises(ValueError, match="singular"):
        reg.set_params(alpha=0.0).fit(np.column_stack([X, X[:, 0]]), y, groups)
    assert not hasattr(reg, "params_")
    reg.fit(X, y, groups)
    with pytest.raises(ValueError, match="missing label"):
        reg.predict(X[:2], ["a", None])


@pytest.mark.parametrize("convert", [lambda g: g.astype(str), lambda g: g.astype(float)])
def test_labels_of_another_kind_are_refused_not_treated_as_new_users(convert):
    # Fitted on numbers and given the same users as strings (or the reverse),
    # every row used to fall back on the shared model without a word.
    X, y, groups, _ = make_users(seed=11)
    fitted_groups = convert(groups)
    reg = HierarchicalCuriousRegressor().fit(X, y, fitted_groups)
    other = groups.astype(float) if fitted_groups.dtype.kind == "U" else groups.astype(str)
    for method in (reg.predict, reg.regularity_sensitivity, reg.influence_score):
        with pytest.raises(ValueError, match="(strings|numbers).*fit time are (numbers|strings)"):
            method(X, groups=other)
    with pytest.raises(ValueError, match="no label can match a fitted user"):
        reg.score(X, y, groups=other)
    with pytest.raises(ValueError, match="no label can match a fitted user"):
        user_influence_sampling(reg, X[:3], users=other[:2])
    # The same kind still falls back on the shared parameters for unseen users.
    unseen = convert(np.full(len(y), 999))
    np.testing.assert_allclose(reg.predict(X, unseen), X @ reg.coef_ + reg.intercept_)


def test_labels_compare_as_values_like_label_encoders():
    # Oracle: LabelEncoder's matching (1 and 1.0 are one user; an object array
    # of numbers is those numbers).
    from sklearn.preprocessing import LabelEncoder

    X, y, groups, _ = make_users(seed=12)
    reg = HierarchicalCuriousRegressor().fit(X, y, groups)
    encoder = LabelEncoder().fit(groups)
    as_float = groups.astype(float)
    np.testing.assert_array_equal(reg.users_, encoder.classes_)
    np.testing.assert_array_equal(encoder.transform(as_float), encoder.transform(groups))
    np.testing.assert_allclose(reg.predict(X, as_float), reg.predict(X, groups), rtol=1e-15)
    np.testing.assert_allclose(
        reg.predict(X, groups.astype(object)), reg.predict(X, groups), rtol=1e-15
    )
    from_objects = HierarchicalCuriousRegressor().fit(X, y, groups.astype(object))
    np.testing.assert_array_equal(from_objects.params_, reg.params_)
    assert from_objects.users_.dtype.kind == "i"


@pytest.mark.parametrize(
    "bad, message",
    [(np.nan, "missing label .nan at position 3"), (None, "missing label .None at position 3")],
)
def test_missing_labels_are_refused_at_fit_and_predict(bad, message):
    # A NaN user used to be learned at fit and never matched at predict.
    X, y, groups, _ = make_users(seed=13)
    with_missing = groups.astype(object)
    with_missing[3] = bad
    reg = HierarchicalCuriousRegressor()
    with pytest.raises(ValueError, match=message):
        reg.fit(X, y, with_missing)
    assert not hasattr(reg, "n_features_in_")
    if bad is np.nan:
        with pytest.raises(ValueError, match=message):
            reg.fit(X, y, with_missing.astype(float))
    reg.fit(X, y, groups)
    with pytest.raises(ValueError, match=message):
        reg.predict(X, with_missing)


def test_mixed_kinds_of_labels_are_refused_with_a_clear_error():
    # Used to fail with "'<' not supported between instances of 'str' and 'int'".
    X, y, groups, _ = make_users(seed=14)
    mixed = groups.astype(object)
    mixed[::2] = mixed[::2].astype(str)
    reg = HierarchicalCuriousRegressor()
    with pytest.raises(ValueError, match="mixes labels of several kinds .numbers and strings"):
        reg.fit(X, y, mixed)
    assert not hasattr(reg, "n_features_in_")
    reg.fit(X, y, groups)
    with pytest.raises(ValueError, match="mixes labels of several kinds"):
        reg.predict(X, mixed)
    with pytest.raises(ValueError, match="numbers or strings.*tuple"):
        reg.predict(X[:1], np.array([(1, 2)] + [None], dtype=object)[:1])


def test_metadata_routing_through_pipeline_and_group_cross_validation():
    X, y, groups, _ = make_users(n_users=12, seed=10)
    grid = {"hierarchicalcuriousregressor__deviation_alpha": [0.1, 1.0, 10.0]}
    cv = GroupKFold(n_splits=3)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = (
            HierarchicalCuriousRegressor()
            .set_fit_request(groups=True)
            .set_predict_request(groups=True)
            .set_score_request(groups=True)
        )
        search = GridSearchCV(make_pipeline(StandardScaler(), estimator), grid, cv=cv)
        search.fit(X, y, groups=groups)
        pipe = search.best_estimator_
        prediction = pipe.predict(X, groups=groups)

    # Brute force: the same folds by hand, groups passed explicitly.
    for i, d in enumerate(grid["hierarchicalcuriousregressor__deviation_alpha"]):
        fold_scores = []
        for train, test in cv.split(X, y, groups):
            scaler = StandardScaler().fit(X[train])
            reg = HierarchicalCuriousRegressor(deviation_alpha=d)
            reg.fit(scaler.transform(X[train]), y[train], groups[train])
            fold_scores.append(reg.score(scaler.transform(X[test]), y[test], groups[test]))
        np.testing.assert_allclose(search.cv_results_["mean_test_score"][i], np.mean(fold_scores))

    by_hand = HierarchicalCuriousRegressor(deviation_alpha=search.best_params_[next(iter(grid))])
    by_hand.fit(StandardScaler().fit_transform(X), y, groups)
    np.testing.assert_allclose(
        prediction, by_hand.predict(StandardScaler().fit(X).transform(X), groups)
    )
    assert not np.allclose(prediction, by_hand.predict(StandardScaler().fit(X).transform(X)))
    # The query strategy takes the pipeline.
    pairs, _ = user_influence_sampling(pipe, X[:4], np.unique(groups), n_instances=2)
    assert pairs.shape == (2, 2)


@parametrize_with_checks(
    [HierarchicalCuriousRegressor(), HierarchicalCuriousRegressor(0.3, 2.0, fit_intercept=False)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_gallery_example_runs(monkeypatch):
    import runpy
    from pathlib import Path

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    example = Path(__file__).parents[1] / "examples" / "plot_multi_user_curiosity.py"
    if not example.exists():
        pytest.skip("examples/ is not part of this installation")
    monkeypatch.setattr(plt, "show", lambda: None)
    namespace = runpy.run_path(str(example))
    plt.close("all")
    # The user with no data and the one with three samples are the ones to ask.
    assert set(namespace["names"][namespace["pairs"][:, 1]]) <= {"cho", "dev"}
