"""The BLAS thread limit: by size, set once for nested calls.

Oracle: threadpoolctl's own report of the BLAS libraries' thread counts.
"""

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_curiosity import _threads
from sklearn_curiosity._threads import (
    SMALL_PRODUCT_FLOPS,
    blas_threads_for,
)


def _blas_threads():
    counts = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    assert len(counts) == 1
    return counts.pop()


@pytest.fixture
def two_blas_threads():
    if not any(info["user_api"] == "blas" for info in threadpool_info()):
        pytest.skip("no BLAS library that threadpoolctl controls")
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != 2:
            pytest.skip("this BLAS cannot run two threads")
        yield


@pytest.mark.parametrize(
    "flops, threads",
    [
        (0, 1),  # one thread whatever the size
        (1e3, 1),
        (SMALL_PRODUCT_FLOPS / 2, 1),
        (SMALL_PRODUCT_FLOPS, 2),
    ],
)
def test_the_limit_is_decided_by_size(two_blas_threads, flops, threads):
    with blas_threads_for(flops):
        assert _blas_threads() == threads
    assert _blas_threads() == 2


def test_nested_limits_set_the_count_once_and_restore_it_once(two_blas_threads, monkeypatch):
    controller = _threads._threadpool_controller()
    limits = []
    original = controller.limit

    def counted(**kwargs):
        limits.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(controller, "limit", counted)
    with blas_threads_for(1e8):
        with blas_threads_for(1e8):
            assert _blas_threads() == 1
        assert _blas_threads() == 1
        with blas_threads_for(0):
            assert _blas_threads() == 1
    assert _blas_threads() == 2
    assert len(limits) == 1


def test_the_count_is_restored_when_the_block_raises(two_blas_threads):
    with pytest.raises(RuntimeError):
        with blas_threads_for(1e8):
            raise RuntimeError
    assert _blas_threads() == 2
    with blas_threads_for(1e8):  # and the next limit is set again
        assert _blas_threads() == 1


@pytest.mark.parametrize("shape", [(2000, 20), (20, 300)])  # primal and dual
def test_linear_fits_and_their_loo_decide_their_threads_by_size(
    two_blas_threads, monkeypatch, shape
):
    # A 100,000 x 20 fit took 1.4x as long on two threads as on one: its
    # products are small. Large ones keep the user's threads.
    import numpy as np

    from sklearn_curiosity import CuriousRegressorCV, _cv, _ridge

    seen = []
    for module, name in [(_ridge, "_fit_primal"), (_ridge, "_fit_dual"),
                         (_cv._LeaveOneOut, "_decompose")]:
        original = getattr(module, name)

        def spy(*args, _original=original, **kwargs):
            seen.append(_blas_threads())
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=shape), rng.normal(size=shape[0])
    CuriousRegressorCV(alphas=[0.1, 1.0]).fit(X, y)
    assert seen == [1, 1]  # the LOO's decomposition, then the refit
    assert _blas_threads() == 2  # restored
    seen.clear()
    monkeypatch.setattr(_threads, "SMALL_PRODUCT_FLOPS", 1.0)
    CuriousRegressorCV(alphas=[0.1, 1.0]).fit(X, y)
    assert seen == [2, 2]
