"""Pytest configuration of the repository, kept outside the package so that
the wheel ships no test machinery.

setup.cfg collects the package's doctests (``--doctest-modules`` on
``sklearn_curiosity``); the modules of optional plug-ins need their library.
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("skactiveml") is None:
    # Importing sklearn_curiosity.skactiveml raises without scikit-activeml.
    collect_ignore.append("sklearn_curiosity/skactiveml.py")
