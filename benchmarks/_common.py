"""Shared pieces of the benchmarks: machine description, timing, memory, progress bars.

Not part of the package: the benchmarks import this module from their own
folder (``python benchmarks/<script>.py`` puts it on ``sys.path``).
"""

import importlib
import importlib.metadata
import os
import platform
import time
import tracemalloc


def progress(iterable=None, **kwargs):
    """A tqdm progress bar (on stderr), or the bare iterable without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the benchmarks still run, silently
        return iterable if iterable is not None else _NoBar()
    return tqdm(iterable, **kwargs)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass


def require(module, extra="benchmarks"):
    """Import an optional module, or fail saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The benchmarks need {module!r}: install them with "
            f"`pip install \"sklearn-curiosity[{extra}]\"` (or `pip install -e \".[{extra}]\"` "
            "from a clone)."
        ) from exc


def optional(module):
    """Import a module that may not exist on this branch yet; None if absent."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def best_time(func, repeat=3, budget=None):
    """Best wall-clock time of ``func()`` over ``repeat`` runs, in seconds.

    With ``budget`` (seconds), stop repeating once the runs so far took longer.
    """
    best, spent = float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if budget is not None and spent > budget:
            break
    return best


def interleaved(first, second, repeat):
    """Best times of two callables run alternately, so both see the same machine state."""
    first_times, second_times = [], []
    for _ in range(repeat):
        first_times.append(best_time(first, 1))
        second_times.append(best_time(second, 1))
    return min(first_times), min(second_times)


def traced_peak(func):
    """Run ``func()`` once under tracemalloc (which sees numpy's buffers).

    Returns ``(peak bytes allocated during the call, result)``.
    """
    tracemalloc.start()
    try:
        result = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_ram_gib():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


PACKAGES = [
    "sklearn-curiosity",
    "numpy",
    "scipy",
    "scikit-learn",
    "autograd",
    "scikit-activeml",
    "modAL-python",
    "statsmodels",
    "matplotlib",
]


def machine_info():
    """Machine and package versions, as a dict of strings."""
    info = {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{total_ram_gib():.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "BLAS": blas_info(),
        "load average at start": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for name in PACKAGES:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info
