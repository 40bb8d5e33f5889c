"""Models: what f(x; theta) is, and its derivative products.

A model knows the layout of its flat parameter vector ``theta``, which entries
a default regularizer penalizes (``penalized``), and three evaluations:

- ``predict(theta, X)``: ``f(X; theta)``, one value per row;
- ``jvp(theta, X, v)``: the forward-mode directional derivative
  ``grad_theta f(X) . v`` for a whole batch at once (``v`` may be a matrix of
  directions, one per column);
- ``jacobian(theta, X)``: the per-row gradients ``grad_theta f(x_i)`` as an
  (n_samples, n_params) matrix, for the few rows that need them (rank-one
  updates of a batch query), never for a whole pool;
- ``pool_evaluator(theta, v, center=...)``: a function of a block of rows
  giving ``f(X)`` and ``grad f(X) . v`` together, what scoring a pool needs,
  in one pass over each block and with the weights prepared once for every
  block (``predict_and_jvp`` calls it on one ``X``). A dense
  float32 block is computed in float32, centered on ``center`` first
  (:ref:`theory-precision`); everything else in float64.

Estimators, scores and query strategies use nothing else.
"""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.extmath import safe_sparse_dot

from ._utils import weighted_gram


class LinearModel:
    """Affine model ``f(x; theta) = x @ coef + intercept``.

    The flat parameter vector is ``theta = [coef, intercept]``, or just
    ``coef`` when ``fit_intercept=False``. The intercept is never penalized.

    Parameters
    ----------
    n_features : int
        Number of input features.

    fit_intercept : bool, default=True
        Whether ``theta`` carries an intercept as its last entry.
    """

    def __init__(self, n_features, fit_intercept=True):
        self.n_features = n_features
        self.fit_intercept = fit_intercept

    @property
    def n_params(self):
        return self.n_features + int(self.fit_intercept)

    @property
    def penalized(self):
        """Boolean mask of the entries of ``theta`` a default L2 penalty acts on."""
        mask = np.ones(self.n_params, dtype=bool)
        if self.fit_intercept:
            mask[-1] = False
        return mask

    def split(self, params):
        """Return ``(coef, intercept)`` from the flat ``params``."""
        coef = params[: self.n_features]
        intercept = params[-1] if self.fit_intercept else 0.0
        return coef, intercept

    def predict(self, params, X):
        """Evaluate ``f(X; params)`` for every row of ``X``."""
        coef, intercept = self.split(params)
        return safe_sparse_dot(X, coef) + intercept

    def jacobian(self, params, X):
        """Per-row gradients ``grad_theta f(x_i)``, shape (n_samples, n_params)."""
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        if self.fit_intercept:
            return np.column_stack([X, np.ones(X.shape[0])])
        return X.copy()

    def jvp(self, params, X, direction):
        """Directional derivative ``grad_theta f(X; params) . direction``.

        ``direction`` has the layout of ``params``, or is a matrix whose
        columns do (the result then has one column per direction).
        """
        # f is linear in theta, so its derivative along v is f evaluated at v.
        return self.predict(np.asarray(direction), X)

    def pool_evaluator(self, params, direction=None, *, center=None, prediction=True):
        """``X -> (f(X), grad_theta f(X) . direction)``, one product with ``X``.

        The coefficients of ``params`` and of each direction are the columns
        of one matrix, so each block of a pool is read once. A dense float32
        block is computed in float32 (see :class:`_FirstLayer`); the
        intercepts are added in float64. See :meth:`Model.pool_evaluator`.
        """
        columns = [params] if prediction else []
        if direction is not None:
            columns.append(np.asarray(direction, dtype=np.float64))
        # f is linear in theta: its derivative along v is f evaluated at v.
        theta = np.column_stack(columns)
        coefs, intercepts = theta[: self.n_features], theta[self.n_features :]
        intercepts = intercepts[0] if self.fit_intercept else np.zeros(theta.shape[1])
        layer = _FirstLayer(coefs, intercepts, center, by_column=True)
        first = 1 if prediction else 0
        several = np.ndim(direction) == 2

        def evaluate(X):
            out = layer(X)
            if direction is None:
                jvp = None
            else:
                jvp = out[:, first:] if several else out[:, first]
            return (out[:, 0] if prediction else None), jvp

        return evaluate

    def predict_and_jvp(self, params, X, direction=None, *, center=None, prediction=True):
        """``(f(X), grad_theta f(X) . direction)``; see :meth:`pool_evaluator`."""
        evaluate = self.pool_evaluator(params, direction, center=center, prediction=prediction)
        return evaluate(X)


def _as_float64(X):
    """``X`` in float64 (a float32 chunk is cast; float64 is not copied)."""
    return X.astype(np.float64, copy=False) if X.dtype != np.float64 else X


class _FirstLayer:
    """``X @ W + b`` for the blocks of a pool, ``W`` of shape (n_features, m).

    The pool's one product. A dense float32 ``X`` is multiplied in float32
    (``W`` rounded to float32), at memory speed and without a float64 copy of
    the pool. So that the result keeps float32's relative accuracy on each
    term's own scale even where features sit far from zero (which would
    otherwise cancel against the biases), ``center`` is subtracted from the
    rows in float32 first and added back in float64 as ``b + center @ W``.
    The error is then at most ``(n_features + 3) * 2**-24 * sum_j |x_j -
    center_j| |W_jk|`` (:ref:`theory-precision`). Everything else is
    computed in float64. The weights are prepared once, for every block.
    """

    def __init__(self, W, b, center=None, by_column=False):
        self.W, self.b = W, b
        self.by_column = by_column
        self.W32 = W.astype(np.float32)
        if center is None:
            self.center32, self.shift = None, b
        else:
            self.center32 = np.asarray(center, dtype=np.float32)
            # b + center @ W for exactly the float32 center that is subtracted.
            self.shift = b + self.center32.astype(np.float64) @ W
        self.shift32 = self.shift.astype(np.float32)

    def __call__(self, X, keep_dtype=False):
        """float64, or float32 for a float32 ``X`` with ``keep_dtype``."""
        if hasattr(X, "toarray"):
            return safe_sparse_dot(_as_float64(X), self.W) + self.b
        if X.dtype != np.float32:
            return self._product(_as_float64(X), self.W) + self.b
        if self.center32 is not None:
            X = np.subtract(X, self.center32)
        product = self._product(X, self.W32)
        if keep_dtype:
            product += self.shift32
            return product
        out = product.astype(np.float64)
        out += self.shift
        return out

    def _product(self, X, W):
        if not self.by_column:
            return X @ W
        # A matrix-vector product per column: its rounding of a row does not
        # depend on the rows around it, so blocks and chunks give the one-shot
        # results bit for bit (a matrix product's tails may round differently).
        out = np.empty((X.shape[0], W.shape[1]), dtype=X.dtype, order="F")
        for j in range(W.shape[1]):
            np.matmul(X, W[:, j], out=out[:, j])
        return out


class Model:
    """Base class of a differentiable model written with ``autograd.numpy``.

    A user-defined model subclasses this and writes only two methods:

    - ``init_params(n_features, random_state)``: the initial flat parameter
      vector ``theta`` (a 1-D ndarray), drawn from ``random_state`` (a
      :class:`numpy.random.RandomState`);
    - ``predict(params, X)``: ``f(X; params)``, one value per row, written with
      ``autograd.numpy`` so that autograd can differentiate it.

    Every derivative the estimator needs (the forward-mode ``jvp``, the
    per-row ``jacobian``, the loss gradient and Hessian-vector products) is
    derived by autograd. By default every parameter is penalized; override
    ``penalized_mask(n_params)`` to exempt biases. A model with a cheap
    closed-form Hessian of the data loss may also override ``loss_hessian``,
    which ``tangent_solver="exact"`` uses (by default it is the product of
    ``loss_hvp`` with the identity).

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> from sklearn_curiosity.models import Model
    >>> class Quadratic(Model):
    ...     def init_params(self, n_features, random_state):
    ...         return 0.1 * random_state.normal(size=2 * n_features + 1)
    ...     def predict(self, params, X):
    ...         d = X.shape[1]
    ...         return X @ params[:d] + (X**2) @ params[d:2 * d] + params[-1]
    ...     def penalized_mask(self, n_params):
    ...         mask = anp.ones(n_params, dtype=bool)
    ...         mask[-1] = False
    ...         return mask
    """

    def init_params(self, n_features, random_state):
        raise NotImplementedError("A Model subclass must define init_params.")

    def predict(self, params, X):
        raise NotImplementedError("A Model subclass must define predict.")

    def penalized_mask(self, n_params):
        return np.ones(n_params, dtype=bool)

    def initialize(self, n_features, random_state):
        """Draw the initial ``theta`` and remember its size."""
        params = np.asarray(self.init_params(n_features, random_state), dtype=np.float64)
        if params.ndim != 1:
            raise ValueError(
                f"{type(self).__name__}.init_params must return a 1-D array of "
                f"parameters; got shape {params.shape}."
            )
        self.n_params = params.size
        return params

    @property
    def penalized(self):
        """Boolean mask of the entries of ``theta`` a default L2 penalty acts on."""
        return np.asarray(self.penalized_mask(self.n_params), dtype=bool)

    # -- derivatives from autograd ---------------------------------------
    def jvp(self, params, X, direction):
        """Forward-mode ``grad_theta f(X) . direction`` (directions as columns)."""
        from autograd import make_jvp

        direction = np.asarray(direction, dtype=np.float64)
        push = make_jvp(lambda p: self.predict(p, X))(params)
        if direction.ndim == 1:
            return push(direction)[1]
        return np.column_stack([push(d)[1] for d in direction.T])

    def pool_evaluator(self, params, direction=None, *, center=None, prediction=True):
        """``X -> (f(X), grad_theta f(X) . direction)``: what scoring a pool needs.

        Prepares the weights once; the returned function is called on each
        block of rows of a pool. A model may share the work of the two
        results, and compute a dense float32 block in float32 (the linear
        model and the MLP do, :ref:`theory-precision`); by default ``predict``
        then ``jvp``, in float64.

        Parameters
        ----------
        params : ndarray of shape (n_params,)

        direction : ndarray of shape (n_params,) or (n_params, k), default=None
            ``None``: the prediction alone (the second result is ``None``).

        center : ndarray of shape (n_features,), default=None
            A row subtracted before a float32 product (the product is shifted
            back in float64), so that features far from zero do not cost
            float32 digits; the training mean is a good choice.

        prediction : bool, default=True
            Whether ``f(X)`` is wanted; ``False`` returns ``None`` in its place.

        Returns
        -------
        evaluate : callable
            ``evaluate(X) -> (prediction, jvp)``, float64 arrays of shapes
            (n_samples,) and (n_samples,) or (n_samples, k) (or ``None``).
        """

        def evaluate(X):
            X = _as_float64(X)
            value = self.predict(params, X) if prediction else None
            return value, None if direction is None else self.jvp(params, X, direction)

        return evaluate

    def predict_and_jvp(self, params, X, direction=None, *, center=None, prediction=True):
        """``(f(X), grad_theta f(X) . direction)``; see :meth:`pool_evaluator`."""
        evaluate = self.pool_evaluator(params, direction, center=center, prediction=prediction)
        return evaluate(X)

    def jacobian(self, params, X):
        """Per-row gradients ``grad_theta f(x_i)``, shape (n_samples, n_params)."""
        from autograd import jacobian

        return jacobian(lambda p: self.predict(p, X))(params)

    def _data_loss(self, params, X, y, sample_weight):
        resid = self.predict(params, X) - y
        return 0.5 * (sample_weight * resid) @ resid

    def loss_grad(self, params, X, y, sample_weight):
        """``(loss, grad)`` of ``1/2 sum_i w_i (f(x_i) - y_i)^2``."""
        from autograd import value_and_grad

        value, grad = value_and_grad(self._data_loss)(params, X, y, sample_weight)
        return float(value), grad

    def loss_hvp(self, params, X, y, sample_weight, direction, gauss_newton=False):
        """Hessian (or Gauss-Newton) of the data loss times ``direction``.

        ``direction`` is (n_params,) or a block (n_params, k) of directions as
        columns; a model may compute a block in one pass (the MLP does).
        """
        from autograd import grad, make_jvp

        direction = np.asarray(direction, dtype=np.float64)
        if direction.ndim == 2:
            return np.column_stack(
                [self.loss_hvp(params, X, y, sample_weight, d, gauss_newton) for d in direction.T]
            )
        if gauss_newton:
            # G v = J^T W J v: a forward product then a reverse one.
            Jv = self.jvp(params, X, direction)
            _, vjp = _make_vjp(lambda p: self.predict(p, X), params)
            return vjp(sample_weight * Jv)
        loss_grad = grad(self._data_loss)
        return make_jvp(loss_grad)(params, X, y, sample_weight)(direction)[1]

    def loss_hessian(self, params, X, y, sample_weight):
        """The dense Hessian of the data loss, (n_params, n_params).

        By default the product with the identity block; a model may have a
        cheaper closed form (the one-hidden-layer MLP does).
        """
        return self.loss_hvp(params, X, y, sample_weight, np.eye(params.size))

    def loss_grad_hvp(self, params, X, y, sample_weight, direction):
        """``(loss, grad, H v)`` of the data loss; a model may share their passes."""
        loss, grad = self.loss_grad(params, X, y, sample_weight)
        return loss, grad, self.loss_hvp(params, X, y, sample_weight, direction)


def _make_vjp(fun, x):
    from autograd.core import make_vjp

    vjp, value = make_vjp(fun, x)
    return value, vjp


def _tanh_derivative(a):
    # In place: on large arrays numpy's ``1.0 - a**2`` is ~30x slower than this.
    d = a * a
    np.subtract(1.0, d, out=d)
    return d


def _tanh_second_derivative(a):
    d = _tanh_derivative(a)
    d *= a
    d *= -2.0
    return d


def _logistic_second_derivative(a):
    d = a * -2.0
    d += 1.0
    d *= a
    d *= 1.0 - a
    return d


_ACTIVATIONS = {
    # name: (phi(z), phi'(z) from a = phi(z), phi''(z) from a)
    "identity": (lambda z: z, lambda a: np.ones_like(a), lambda a: np.zeros_like(a)),
    "tanh": (np.tanh, _tanh_derivative, _tanh_second_derivative),
    "logistic": (
        lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
        lambda a: a * (1.0 - a),
        _logistic_second_derivative,
    ),
    "relu": (
        lambda z: np.maximum(z, 0.0),
        lambda a: (a > 0).astype(a.dtype),
        lambda a: np.zeros_like(a),
    ),
}


def _autograd_activation(name, z):
    import autograd.numpy as anp

    if name == "tanh":
        return anp.tanh(z)
    if name == "logistic":
        return 0.5 * (1.0 + anp.tanh(0.5 * z))
    if name == "relu":
        return anp.maximum(z, 0.0)
    return z


def _check_hidden_layer_sizes(hidden_layer_sizes):
    """The layer widths as a tuple of ints, or a ValueError naming the bad entry.

    As :class:`~sklearn.neural_network.MLPRegressor`: an int is one layer, and
    every width is an integer >= 1 (a width of 0 would cut the network off
    from its input and fit a constant without a word). Booleans and floats
    such as 2.0 are refused rather than rounded.
    """
    sizes = (
        [hidden_layer_sizes]
        if np.ndim(hidden_layer_sizes) == 0 and not isinstance(hidden_layer_sizes, str)
        else hidden_layer_sizes
    )
    try:
        sizes = list(sizes)
    except TypeError:
        sizes = None
    if sizes is None or isinstance(hidden_layer_sizes, str):
        raise ValueError(
            "hidden_layer_sizes must be an int or a sequence of ints (one width "
            f"per hidden layer); got {hidden_layer_sizes!r}."
        )
    for position, size in enumerate(sizes):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral) or size < 1:
            raise ValueError(
                "hidden_layer_sizes must hold integers >= 1 (one width per hidden "
                f"layer); entry {position} is {size!r} in {hidden_layer_sizes!r}."
            )
    return tuple(int(size) for size in sizes)


class MLP(Model):
    """Fully connected network with one linear output, ``f(x; theta)``.

    ``theta`` stacks, layer by layer, the weight matrix (row-major, shape
    ``(fan_in, fan_out)``) then the bias vector. Biases are not penalized.

    With ``differentiation="analytic"`` every derivative product is
    hand-written (backpropagation, Pearlmutter's R-operator for exact
    Hessian-vector products, the Gauss-Newton product, and a forward pass
    carrying tangents for the batch ``jvp``); with ``"autograd"`` the generic
    :class:`Model` derivatives are used instead, on the same ``predict``.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int
        Width of each hidden layer, each an integer >= 1 (an int means one
        hidden layer; an empty sequence, none: a linear model).

    activation : {"tanh", "relu", "logistic", "identity"}
        Activation of the hidden layers.

    differentiation : {"analytic", "autograd"}
        Which derivatives to use.
    """

    def __init__(self, hidden_layer_sizes=(32,), activation="tanh", differentiation="analytic"):
        self.hidden_layer_sizes = _check_hidden_layer_sizes(hidden_layer_sizes)
        self.activation = activation
        self.differentiation = differentiation

    def init_params(self, n_features, random_state):
        sizes = [n_features, *self.hidden_layer_sizes, 1]
        self.shapes = list(zip(sizes[:-1], sizes[1:]))
        chunks = []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in self.shapes:
            # Glorot uniform initialisation, as sklearn's MLPRegressor.
            bound = np.sqrt(factor / (fan_in + fan_out))
            chunks.append(random_state.uniform(-bound, bound, fan_in * fan_out))
            chunks.append(random_state.uniform(-bound, bound, fan_out))
        return np.concatenate(chunks)

    def penalized_mask(self, n_params):
        mask = []
        for fan_in, fan_out in self.shapes:
            mask.append(np.ones(fan_in * fan_out, dtype=bool))
            mask.append(np.zeros(fan_out, dtype=bool))
        return np.concatenate(mask)

    def unpack(self, params):
        """List of ``(W, b)`` views into the flat ``params``."""
        layers, start = [], 0
        for fan_in, fan_out in self.shapes:
            W = params[start : start + fan_in * fan_out].reshape(fan_in, fan_out)
            start += fan_in * fan_out
            b = params[start : start + fan_out]
            start += fan_out
            layers.append((W, b))
        return layers

    def predict(self, params, X):
        if self.differentiation == "autograd":
            out = X
            layers = self.unpack(params)
            for i, (W, b) in enumerate(layers):
                out = out @ W + b
                if i < len(layers) - 1:
                    out = _autograd_activation(self.activation, out)
            return out[:, 0]
        return self._forward(params, X)[-1][:, 0]

    # -- hand-written derivatives ----------------------------------------
    def _forward(self, params, X):
        phi = _ACTIVATIONS[self.activation][0]
        layers = self.unpack(params)
        acts = [X]
        for i, (W, b) in enumerate(layers):
            # ``@`` takes a sparse X too; safe_sparse_dot's checks would cost
            # a tenth of a mini-batch step.
            z = acts[-1] @ W + b
            acts.append(phi(z) if i < len(layers) - 1 else z)
        return acts

    def _flatten(self, grads):
        return np.concatenate([g.ravel() for pair in grads for g in pair])

    def jvp(self, params, X, direction):
        if self.differentiation == "autograd":
            return super().jvp(params, X, direction)
        direction = np.asarray(direction, dtype=np.float64)
        if direction.ndim == 2:
            return np.column_stack([self.jvp(params, X, d) for d in direction.T])
        # One forward pass carrying the tangent of every activation.
        dphi = _ACTIVATIONS[self.activation][1]
        phi = _ACTIVATIONS[self.activation][0]
        layers = self.unpack(params)
        dlayers = self.unpack(direction)
        a, da = X, None
        for i, ((W, b), (dW, db)) in enumerate(zip(layers, dlayers)):
            z = a @ W + b
            dz = a @ dW + db
            if da is not None:
                dz += da @ W
            if i < len(layers) - 1:
                a = phi(z)
                da = dphi(a) * dz
            else:
                return dz[:, 0]

    def pool_evaluator(self, params, direction=None, *, center=None, prediction=True):
        """``X -> (f(X), grad_theta f(X) . direction)`` in one forward pass.

        Each block of the pool is multiplied by the first layer's weights and
        by each direction's first-layer derivative, and every later layer's
        activations and their tangents by its weights, in contiguous arrays
        (see :mod:`sklearn_curiosity._network_pool`). A dense float32 block is
        computed in float32, centered on ``center``, and the output's biases
        are added in float64 (:ref:`theory-precision`). See
        :meth:`Model.pool_evaluator`.
        """
        if self.differentiation == "autograd":
            return super().pool_evaluator(
                params, direction, center=center, prediction=prediction
            )
        from ._network_pool import NetworkPoolEvaluator

        several = np.ndim(direction) == 2
        directions = (
            np.zeros((params.size, 0)) if direction is None
            else np.asarray(direction, dtype=np.float64).reshape(params.size, -1)
        )
        dlayers = [[] for _ in self.shapes]
        for column in directions.T:
            for i, pair in enumerate(self.unpack(column)):
                dlayers[i].append(pair)
        return NetworkPoolEvaluator(
            self.unpack(params), dlayers, self.activation, _ACTIVATIONS[self.activation][1],
            center=center, prediction=prediction, several=several,
        )

    def _backward(self, acts, layers, delta):
        """Gradients ``[(dW, db)]`` and per-layer deltas from the output delta."""
        dphi = _ACTIVATIONS[self.activation][1]
        grads, deltas = [], [delta]
        for i in range(len(layers) - 1, -1, -1):
            grads.append((acts[i].T @ delta, delta.sum(axis=0)))
            if i > 0:
                delta = (delta @ layers[i][0].T) * dphi(acts[i])
                deltas.append(delta)
        return grads[::-1], deltas[::-1]

    def loss_grad(self, params, X, y, sample_weight):
        if self.differentiation == "autograd":
            return super().loss_grad(params, X, y, sample_weight)
        acts = self._forward(params, X)
        resid = acts[-1][:, 0] - y
        delta = (sample_weight * resid)[:, None]
        grads, _ = self._backward(acts, self.unpack(params), delta)
        return 0.5 * float(delta[:, 0] @ resid), self._flatten(grads)

    def jacobian(self, params, X):
        if self.differentiation == "autograd":
            return super().jacobian(params, X)
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        return self._jacobian(params, self._forward(params, X))

    def _jacobian(self, params, acts):
        """Per-row gradients from the forward pass's activations ``acts``."""
        layers = self.unpack(params)
        dphi = _ACTIVATIONS[self.activation][1]
        n_samples = acts[0].shape[0]
        J = np.empty((n_samples, params.size))
        delta = np.ones((n_samples, 1))
        stop = params.size
        for i in range(len(layers) - 1, -1, -1):
            # Row by row, the layer's outer product acts x delta, then its bias's delta.
            fan_in, fan_out = layers[i][0].shape
            J[:, stop - fan_out : stop] = delta
            stop -= fan_out
            block = J[:, stop - fan_in * fan_out : stop].reshape(n_samples, fan_in, fan_out)
            np.multiply(acts[i][:, :, None], delta[:, None, :], out=block)
            stop -= fan_in * fan_out
            if i > 0:
                delta = (delta @ layers[i][0].T) * dphi(acts[i])
        return J

    def loss_hvp(self, params, X, y, sample_weight, direction, gauss_newton=False, forward=None):
        # ``forward``: a ``_kept_pass`` (or ``_forward``'s activations) kept by
        # a caller that runs many products at the same params (the tangent's
        # solver).
        if self.differentiation == "autograd":
            return super().loss_hvp(params, X, y, sample_weight, direction, gauss_newton)
        direction = np.asarray(direction, dtype=np.float64)
        if direction.ndim == 1:
            return self._r_backprop(
                params, X, y, sample_weight, direction[:, None], gauss_newton, forward=forward
            )[2][:, 0]
        # A block of directions in passes over the data, as many columns per
        # pass as fit sklearn's working_memory (the dense Hessian in a few).
        widths = sum(fan_out for _, fan_out in self.shapes)
        per_pass = get_chunk_n_rows(
            row_bytes=8 * 4 * X.shape[0] * widths, max_n_rows=direction.shape[1]
        )
        return np.hstack(
            [
                self._r_backprop(
                    params, X, y, sample_weight, direction[:, cols], gauss_newton, forward=forward
                )[2]
                for cols in gen_batches(direction.shape[1], per_pass)
            ]
        )

    def loss_hessian(self, params, X, y, sample_weight):
        if self.differentiation == "autograd" or len(self.shapes) != 2:
            return super().loss_hessian(params, X, y, sample_weight)
        # One hidden layer, f = v . phi(X W + b) + c: the Hessian is
        # J^T W J plus the residual-weighted second derivatives of f, which
        # couple only the parameters (W[:, j], b[j], v[j]) of one hidden unit:
        #   d2f / d(W[:, j], b[j])^2 = v[j] phi''(z_j) x~ x~^T,  x~ = (x, 1),
        #   d2f / d(W[:, j], b[j]) dv[j] = phi'(z_j) x~.
        # Built in row chunks as O(n p^2) matrix products, where the product
        # with the identity block costs O(n p h) elementwise work.
        (W, _), (v, _) = self.unpack(params)
        n_features, n_hidden = W.shape
        dphi, d2phi = _ACTIVATIONS[self.activation][1:]
        # Where each unit's (W[:, j], b[j]) and v[j] sit in theta.
        unit = np.vstack([np.arange(n_features * n_hidden).reshape(n_features, n_hidden),
                          n_features * n_hidden + np.arange(n_hidden)])
        out = (n_features + 1) * n_hidden + np.arange(n_hidden)
        n_params = params.size
        H = np.zeros((n_params, n_params))
        row_bytes = 8 * (2 * n_params + (n_features + 1) * (n_hidden + 1))
        for rows in gen_batches(X.shape[0], get_chunk_n_rows(row_bytes, max_n_rows=X.shape[0])):
            Xc = X[rows].toarray() if hasattr(X, "toarray") else X[rows]
            wc = sample_weight[rows]
            acts = self._forward(params, Xc)
            H += weighted_gram(self._jacobian(params, acts), wc)
            _, a, prediction = acts
            c = wc * (prediction[:, 0] - y[rows])
            Xt = np.hstack([Xc, np.ones((Xc.shape[0], 1))])
            curvature = (c[:, None] * d2phi(a)) * v[:, 0]
            blocks = Xt.T @ (Xt[:, :, None] * curvature[:, None, :]).reshape(len(c), -1)
            H[unit[:, None, :], unit[None, :, :]] += blocks.reshape(
                n_features + 1, n_features + 1, n_hidden
            )
            cross = Xt.T @ (c[:, None] * dphi(a))
            H[unit, out] += cross
            H[out, unit] += cross
        return H

    def loss_grad_hvp(self, params, X, y, sample_weight, direction):
        # One forward pass and one backward sweep give both (the forward
        # tangent's training step): the R-backward already carries the deltas.
        if self.differentiation == "autograd":
            return super().loss_grad_hvp(params, X, y, sample_weight, direction)
        loss, grad, hvp = self._r_backprop(
            params, X, y, sample_weight, np.asarray(direction, dtype=np.float64)[:, None],
            False, with_grad=True,
        )
        return loss, grad, hvp[:, 0]

    def _kept_pass(self, params, X, y, sample_weight):
        """What every Hessian-vector product at ``params`` on ``(X, y)`` shares.

        The forward activations, each hidden layer's ``phi'``, the plain
        backpropagated deltas and the residual-weighted ``phi''`` terms do not
        depend on the direction: a caller that runs many products at the same
        ``params`` (the tangent's solver) computes them once and passes them
        to :meth:`loss_hvp` as ``forward``. Half the elementwise work of a
        product is spared; its arithmetic is unchanged, bit for bit.
        """
        return _KeptPass(self, params, X, y, sample_weight)

    def _r_backprop(
        self, params, X, y, sample_weight, directions, gauss_newton, with_grad=False, forward=None
    ):
        """``(loss, grad, H D)`` for a block ``D`` of k directions, shape (n_params, k).

        Pearlmutter's R-operator: forward then backward passes of the
        directional derivatives of every intermediate quantity. The R-arrays
        are laid out (n_samples, k, width), so each layer's products over the
        whole block are single matrix products. ``forward``: a
        :meth:`_kept_pass` (or the activations of ``_forward``) at ``params``.
        """
        kept = (
            forward if isinstance(forward, _KeptPass)
            else _KeptPass(self, params, X, y, sample_weight, acts=forward)
        )
        layers = kept.layers
        n, k = X.shape[0], directions.shape[1]
        # Each layer's (dW, db) with the directions second: (fan_in, k, fan_out), (k, fan_out).
        dlayers, start = [], 0
        for fan_in, fan_out in self.shapes:
            dW = directions[start : start + fan_in * fan_out].reshape(fan_in, fan_out, k)
            start += fan_in * fan_out
            db = directions[start : start + fan_out].T
            start += fan_out
            dlayers.append((np.ascontiguousarray(dW.transpose(0, 2, 1)), db))
        acts, slopes = kept.acts, kept.slopes
        n_layers = len(layers)
        Rz = [None] * n_layers
        Ra = [None] * (n_layers + 1)
        for i, ((W, b), (dW, db)) in enumerate(zip(layers, dlayers)):
            fan_in, fan_out = W.shape
            rz = (acts[i] @ dW.reshape(fan_in, k * fan_out)).reshape(n, k, fan_out)
            rz += db
            if Ra[i] is not None:
                rz += (Ra[i].reshape(n * k, fan_in) @ W).reshape(n, k, fan_out)
            Rz[i] = rz
            Ra[i + 1] = slopes[i + 1][:, None, :] * rz if i < n_layers - 1 else rz
        Rdelta = sample_weight[:, None, None] * Ra[-1]
        blocks, plain = [], []
        for i in range(n_layers - 1, -1, -1):
            (W, _), (dW, _) = layers[i], dlayers[i]
            fan_in, fan_out = W.shape
            delta = kept.deltas[i]
            if with_grad:
                plain.append((acts[i].T @ delta, delta.sum(axis=0)))
            RgW = acts[i].T @ Rdelta.reshape(n, k * fan_out)
            RgW = RgW.reshape(fan_in, k, fan_out)
            if not gauss_newton and Ra[i] is not None:
                RgW += (
                    (Ra[i].reshape(n, k * fan_in).T @ delta)
                    .reshape(k, fan_in, fan_out)
                    .transpose(1, 0, 2)
                )
            blocks.append(
                (RgW.transpose(0, 2, 1).reshape(fan_in * fan_out, k), Rdelta.sum(axis=0).T)
            )
            if i > 0:
                back = (Rdelta.reshape(n * k, fan_out) @ W.T).reshape(n, k, fan_in)
                if not gauss_newton:
                    dWt = dW.transpose(2, 1, 0).reshape(fan_out, k * fan_in)
                    back += (delta @ dWt).reshape(n, k, fan_in)
                    back *= slopes[i][:, None, :]
                    back += kept.curvature(i)[:, None, :] * Rz[i - 1]
                else:
                    back *= slopes[i][:, None, :]
                Rdelta = back
        hvp = np.vstack([b for pair in blocks[::-1] for b in pair])
        return kept.loss, (self._flatten(plain[::-1]) if with_grad else None), hvp


class _KeptPass:
    """The direction-free part of an MLP's Hessian-vector products at ``params``.

    ``acts`` (the forward pass), ``slopes[i] = phi'`` of hidden layer ``i``,
    ``deltas[i]`` the plain backpropagated delta at layer ``i``'s output and,
    on demand, ``curvature(i)``: the delta reaching hidden layer ``i`` times
    ``phi''``, the exact Hessian's residual term (the Gauss-Newton product
    never needs it).
    """

    def __init__(self, model, params, X, y, sample_weight, acts=None):
        act = _ACTIVATIONS[model.activation]
        self._second_derivative = act[2]
        self.layers = model.unpack(params)
        self.acts = model._forward(params, X) if acts is None else acts
        self.slopes = [None] + [act[1](a) for a in self.acts[1:-1]]
        resid = self.acts[-1][:, 0] - y
        delta = (sample_weight * resid)[:, None]
        self.loss = 0.5 * float(delta[:, 0] @ resid)
        n_layers = len(self.layers)
        self.deltas = [None] * n_layers
        self._upstream = [None] * n_layers
        self._curvature = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            self.deltas[i] = delta
            if i > 0:
                upstream = delta @ self.layers[i][0].T
                self._upstream[i] = upstream
                delta = upstream * self.slopes[i]

    def curvature(self, i):
        if self._curvature[i] is None:
            self._curvature[i] = self._upstream[i] * self._second_derivative(self.acts[i])
        return self._curvature[i]
