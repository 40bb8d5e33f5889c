"""A network's prediction and forward-mode derivative on a pool, block by block.

Scoring a pool with a network needs, for each row, ``f(x)`` and
``g(x) = grad_theta f(x) . tau`` for a few directions ``tau``: one forward
pass carrying each activation's tangent. Its cost is matrix products of the
rows' activations with each layer's weights (the arithmetic floor: any exact
method multiplies the pool by ``W1`` and by ``tau``'s ``dW1``, and each
later activation by ``W`` and ``dW``) plus element-wise steps. The products
are cheap next to memory traffic only while the element-wise steps stay out
of the way, so every array here is a contiguous ``(n_rows, width)`` block, one
per activation and one per tangent, that numpy's element-wise loops treat as
one flat vector:

- the first layer is one product of the block with ``W1`` and one with each
  direction's ``dW1`` (for the widths the networks use, two products into
  contiguous outputs cost no more than one into a strided ``[W1 | dW1]``
  output, and spare the strided element-wise steps that followed it);
- biases are added from a bias row tiled to the block's height, a flat
  addition: numpy's row-by-row broadcast of a short row costs as much again;
- activations are applied in place, and each tangent is multiplied in place
  by the activation's slope, computed once for every direction;
- the output layer is one product of the last activations with ``[w, dw_1,
  ..., dw_k]`` and one matrix-vector product per tangent.

A dense float32 block is computed in float32, its rows first centered on
``center`` (the float32 center subtracted, its products with the first
layer's weights added to the biases in float64 and rounded once); the output
layer's biases are added in float64 (:ref:`theory-precision`). Any other
block is computed in float64.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot


def _logistic_in_place(z):
    # 0.5 * (1 + tanh(z / 2)), the steps of models._ACTIVATIONS["logistic"].
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


# phi(z) computed in place; each gives the same bits as models._ACTIVATIONS.
_IN_PLACE = {
    "identity": lambda z: z,
    "tanh": lambda z: np.tanh(z, out=z),
    "logistic": _logistic_in_place,
    "relu": lambda z: np.maximum(z, 0.0, out=z),
}


class _TiledRow:
    """A bias row, and that row repeated for a block of rows (grown on demand)."""

    def __init__(self, row):
        self.row = row
        self.tile = row[np.newaxis, :]

    def add_to(self, block):
        """``block += row``, as one flat addition of same-shaped arrays."""
        n_rows = block.shape[0]
        tile = self.tile
        if tile.shape[0] < n_rows:
            # Threads may race to grow it: both results are the same rows.
            tile = self.tile = np.tile(self.row, (n_rows, 1))
        block += tile if tile.shape[0] == n_rows else tile[:n_rows]
        return block


class _Layer:
    """One layer's weights and its directional derivatives, in one dtype."""

    def __init__(self, W, b, dWs, dbs, dtype):
        self.W = np.ascontiguousarray(W, dtype=dtype)
        self.b = _TiledRow(np.asarray(b, dtype=dtype))
        self.dWs = [np.ascontiguousarray(dW, dtype=dtype) for dW in dWs]
        self.dbs = [_TiledRow(np.asarray(db, dtype=dtype)) for db in dbs]


class NetworkPoolEvaluator:
    """``X -> (f(X), g(X))`` for blocks of rows of a pool, an MLP's forward mode.

    Parameters
    ----------
    layers : list of (W, b)
        The network's weights, ``W`` of shape (fan_in, fan_out); the last
        layer has one output.

    dlayers : list of list of (dW, db)
        For each layer, one ``(dW, db)`` per direction (possibly none).

    activation : str
        A key of ``models._ACTIVATIONS``; ``slope`` is its derivative computed
        from the activation's value.

    center : ndarray of shape (n_features,) or None
        The row float32 blocks are centered on.

    prediction : bool
        Whether ``f(X)`` is returned (else ``None``).

    several : bool
        Whether the directions come back as columns (else the one direction's
        vector).
    """

    def __init__(self, layers, dlayers, activation, slope, *, center, prediction, several):
        self.activation = _IN_PLACE[activation]
        self.slope = slope
        self.prediction = prediction
        self.several = several
        self.n_directions = len(dlayers[0])
        (W1, b1), first_directions = layers[0], dlayers[0]
        self.center32 = None
        shifts = [b1] + [db for _, db in first_directions]
        shifts32 = shifts
        if center is not None:
            # b + center @ W for exactly the float32 center that is subtracted.
            self.center32 = np.asarray(center, dtype=np.float32)
            center64 = self.center32.astype(np.float64)
            weights = [W1] + [dW for dW, _ in first_directions]
            shifts32 = [shift + center64 @ W for shift, W in zip(shifts, weights)]
        self.layers, self.output_biases = {}, {}
        for dtype, first_shifts in [(np.float64, shifts), (np.float32, shifts32)]:
            prepared = [_Layer(W1, first_shifts[0], [dW for dW, _ in first_directions],
                               first_shifts[1:], dtype)]
            for (W, b), directions in zip(layers[1:], dlayers[1:]):
                prepared.append(_Layer(W, b, [dW for dW, _ in directions],
                                       [db for _, db in directions], dtype))
            self.layers[dtype] = prepared
            # The output's biases, in float64 (for a network without hidden
            # layers, the first layer's shifted ones).
            output_shifts = first_shifts if len(layers) == 1 else (
                [layers[-1][1]] + [db for _, db in dlayers[-1]])
            self.output_biases[dtype] = (
                float(output_shifts[0][0]), np.array([shift[0] for shift in output_shifts[1:]]))
        # The output layer's [w, dw_1, ..., dw_k]: the columns of one product.
        self.output_columns, self.output_weights = {}, {}
        for dtype, prepared in self.layers.items():
            columns = ([prepared[-1].W] if prediction else []) + prepared[-1].dWs
            self.output_columns[dtype] = np.hstack(columns) if columns else None
            self.output_weights[dtype] = prepared[-1].W[:, 0]

    def __call__(self, X):
        # A NaN or infinite pool entry makes its row's results NaN (``0 *
        # inf``), which the caller's check of the results reports by name.
        with np.errstate(invalid="ignore"):
            return self._evaluate(X)

    def _evaluate(self, X):
        if hasattr(X, "toarray"):
            X, dtype = X.astype(np.float64, copy=False), np.float64
            product = safe_sparse_dot
        else:
            dtype = np.float32 if X.dtype == np.float32 else np.float64
            if X.dtype != dtype:
                X = X.astype(dtype)
            if dtype == np.float32 and self.center32 is not None:
                X = np.subtract(X, self.center32)
            product = np.matmul
        layers = self.layers[dtype]
        if len(layers) == 1:
            return self._output(X, None, dtype, product)
        first = layers[0]
        a = first.b.add_to(product(X, first.W))
        tangents = [db.add_to(product(X, dW)) for dW, db in zip(first.dWs, first.dbs)]
        self._activate(a, tangents)
        return self._after_first_layer(a, tangents, layers, dtype)

    def _after_first_layer(self, a, tangents, layers, dtype):
        """The hidden layers after the first and the output, from the first's activations."""
        for layer in layers[1:-1]:
            z = layer.b.add_to(a @ layer.W)
            new_tangents = []
            for da, dW, db in zip(tangents, layer.dWs, layer.dbs):
                dz = da @ layer.W
                dz += a @ dW
                new_tangents.append(db.add_to(dz))
            a, tangents = z, new_tangents
            self._activate(a, tangents)
        return self._output(a, tangents, dtype, np.matmul)

    def _activate(self, z, dzs):
        """``a = phi(z)`` and ``da = phi'(z) dz``, all in place."""
        self.activation(z)
        if dzs:
            slope = self.slope(z)
            for dz in dzs:
                dz *= slope

    def _output(self, a, tangents, dtype, product):
        """The output layer: ``(f, g)`` in float64, from the last activations."""
        columns = self.output_columns[dtype]
        if columns is None:
            return None, None
        bias, dbias = self.output_biases[dtype]
        out = product(a, columns)
        first = int(self.prediction)
        if tangents is not None:
            w = self.output_weights[dtype]
            for j, da in enumerate(tangents):
                out[:, first + j] += da @ w
        # One column at a time: a broadcast over rows of one or two entries
        # would run numpy's inner loop once per row.
        out = out.astype(np.float64)
        value = None
        if self.prediction:
            value = out[:, 0]
            value += bias
        for j in range(self.n_directions):
            out[:, first + j] += dbias[j]
        if not self.n_directions:
            return value, None
        return value, out[:, first:] if self.several else out[:, first]
