"""Importing the scripts of benchmarks/, a folder that is not a package."""

import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def import_benchmark(name):
    """The module ``benchmarks/<name>.py``, imported with its folder on the path."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))
