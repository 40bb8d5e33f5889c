"""BLAS threads for small products.

A network's training and scoring, and the linear fit's blocked Gram matrix,
run many matrix products whose size is fixed by the batch, the layer widths
or the block. When each product is small, OpenBLAS's
threads cost more to wake and join than they save; on a machine whose other
cores are busy they can cost far more (scikit-learn's ``KMeans`` limits its
BLAS threads for the same reason). The choice is made by size, so that large
products keep every thread the user has allowed.

Changing the thread count is itself not free: ``openblas_set_num_threads``
usually takes about 20 microseconds, but now and then milliseconds (measured
up to 8 ms on an idle 2-core machine and 44 ms with the other core busy, in
300 trials), so nested calls (a fit that limits its threads, and the
training and Laplace factorization inside it) set the limit once. Tiny
problems need the limit too: without any, a fit of the (8,) network on 40
rows took 9x as long under the default two threads as under one (mean of
60 fits, side by side, on a loaded 2-core machine).
"""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import threading

from threadpoolctl import ThreadpoolController

# Below this many floating-point operations per product, one BLAS thread.
# Measured on a 2-core machine shared with other work (benchmarks/
# bench_threads.py): against one thread, two took 36x (quiet) and 105x
# (second core busy) longer on a 3e7-flop product, 1.06x and 0.99x at 2e9,
# 1.46x and 0.68x at 2e10; a network fit whose dense Hessian products are
# 3e8 flops took 3x to 5x longer.
SMALL_PRODUCT_FLOPS = 1e10

_controller = None
# Whether this thread is inside one of our limits already. (threadpoolctl
# lets one thread at a time change OpenBLAS's process-wide count; a limit
# entered by another thread meanwhile changes nothing.)
_inside = threading.local()


def _threadpool_controller():
    # Inspecting the loaded libraries is slow: do it once per process.
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def _one_blas_thread():
    if getattr(_inside, "limited", False):
        # The enclosing limit has set one thread, and will restore the count.
        yield
        return
    _inside.limited = True
    try:
        with _threadpool_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _inside.limited = False


def blas_threads_for(product_flops):
    """A context that runs BLAS on one thread when its products are small.

    Parameters
    ----------
    product_flops : float
        Floating-point operations of the largest matrix product run inside
        the context (e.g. ``2 * batch_rows * width_in * width_out``); ``0``
        asks for one thread whatever the size (LAPACK's SVD, slower on two
        threads at every size measured).

    Returns
    -------
    context : context manager
        ``threadpoolctl``'s limit to one BLAS thread below
        ``SMALL_PRODUCT_FLOPS``, a no-op above it. Inside another such
        context it changes nothing: the outer one has set one thread
        already, and restores the count when it ends.
    """
    if product_flops >= SMALL_PRODUCT_FLOPS:
        return contextlib.nullcontext()
    return _one_blas_thread()
