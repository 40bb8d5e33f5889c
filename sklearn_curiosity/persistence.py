"""Safe persistence with skops: the package's types to trust when loading.

A pickle runs code while it loads: whoever wrote the file decides what runs,
and the version check of :class:`~sklearn_curiosity.CuriousRegressor`'s
pickles cannot stop that (it runs after the objects are rebuilt). The
``skops`` format stores data only and rebuilds only the types the caller
trusts. ``skops.io.load(path, trusted=trusted_types())`` loads every estimator
of this package; types from elsewhere (a user-written
:class:`~sklearn_curiosity.models.Model`, scikit-activeml's wrappers, a
user-written regularizer's function) must be reviewed with
``skops.io.get_untrusted_types`` and trusted by name.

skops is an optional dependency: ``pip install 'sklearn-curiosity[skops]'``.
See :ref:`persistence`.
"""

# SPDX-License-Identifier: BSD-3-Clause

import importlib
import importlib.util
import inspect
import pkgutil

__all__ = ["trusted_types"]

# Modules that never hold an estimator's state: the command line and the
# doctest configuration.
_NOT_SCANNED = {"__main__", "conftest"}

# Plug-in modules that import an optional library at import time.
_OPTIONAL_DEPENDENCY = {"skactiveml": "skactiveml"}


def trusted_types():
    """Fully qualified names of the package's types, for ``skops.io.load(trusted=...)``.

    Every class defined in ``sklearn_curiosity`` (estimators, their models,
    regularizers and factorized Hessians, the scikit-activeml plug-ins when
    scikit-activeml is installed), exceptions and the command line's classes
    aside. Loading these types runs none of the file's code: their state is
    plain data (numbers, arrays, strings, other trusted objects).

    Returns
    -------
    names : list of str
        Sorted names such as ``"sklearn_curiosity._regressor.CuriousRegressor"``.

    See Also
    --------
    skops.io.get_untrusted_types : The types a file holds that are not trusted
        by default: review those not in this list before trusting them.

    Examples
    --------
    >>> import numpy as np
    >>> import skops.io as sio
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.persistence import trusted_types
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> reg = CuriousRegressor(alpha=1.0).fit(X, [0.0, 1.0, 2.0, 2.5])
    >>> data = sio.dumps(reg)
    >>> set(sio.get_untrusted_types(data=data)) <= set(trusted_types())
    True
    >>> loaded = sio.loads(data, trusted=trusted_types())
    >>> bool(np.array_equal(loaded.influence_score(X), reg.influence_score(X)))
    True
    """
    import sklearn_curiosity

    names = set()
    for info in pkgutil.iter_modules(sklearn_curiosity.__path__):
        if info.name in _NOT_SCANNED:
            continue
        dependency = _OPTIONAL_DEPENDENCY.get(info.name)
        if dependency is not None and importlib.util.find_spec(dependency) is None:
            # Its classes cannot be rebuilt here anyway.
            continue
        module = importlib.import_module(f"sklearn_curiosity.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and not issubclass(cls, BaseException):
                names.add(f"{cls.__module__}.{cls.__qualname__}")
    return sorted(names)
