"""Pickles that record the package version, and refuse a fitted state from another release.

An estimator's private fitted state (its model, its factorized Hessian) may
change layout between releases; unpickling it into another release would
answer with the wrong numbers, or fail far from the cause. Every estimator of
the package shares this mixin, so they all refuse the same way.
"""

# SPDX-License-Identifier: BSD-3-Clause

_VERSION_KEY = "_sklearn_curiosity_version"


class VersionedPickleMixin:
    """Record ``sklearn_curiosity.__version__`` in the pickle; check it on loading.

    A fitted estimator (one with ``params_``) loads only into the same
    major.minor release; an unfitted one (parameters only) loads anywhere.
    Put it before :class:`~sklearn.base.BaseEstimator` in the bases, so that
    BaseEstimator's own version record is kept.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state[_VERSION_KEY] = _package_version()
        return state

    def __setstate__(self, state):
        saved = state.pop(_VERSION_KEY, None)
        current = _package_version()
        if "params_" in state and (saved is None or _major_minor(saved) != _major_minor(current)):
            name = type(self).__name__
            if saved is None:
                raise ValueError(
                    f"This {name} was fitted and pickled by a version of sklearn_curiosity "
                    f"that did not record its version, so its fitted state cannot be trusted "
                    f"by the installed version {current}. Refit it with sklearn_curiosity "
                    f"{current}."
                )
            raise ValueError(
                f"This {name} was fitted and pickled with sklearn_curiosity {saved}, which "
                f"is incompatible with the installed version {current} (fitted estimators "
                f"load only within the same major.minor release). Refit it with "
                f"sklearn_curiosity {current}, or install sklearn_curiosity=={saved} to "
                f"load it."
            )
        super().__setstate__(state)


def _package_version():
    from . import __version__  # not at import time: __init__ imports the estimators

    return __version__


def _major_minor(version):
    return tuple(str(version).split(".")[:2])
