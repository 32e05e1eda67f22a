"""Keras attention layers: ``MultiHeadAttention``.

Keras builds MultiHeadAttention from ``EinsumDense`` sublayers named ``query``,
``key``, ``value`` (and ``gate``) and ``attention_output``; symcount names the weights
by their paths inside the layer, ``query/kernel``, ``query/bias``, …

Where Keras and PyTorch count differently: Keras's ``query``/``key``/``value`` kernels
are ``(d, num_heads, key_dim)`` — the heads' width is ``key_dim`` (``value_dim``),
free of the model width, and each projection has its own ``(num_heads, key_dim)``
bias; torch's ``nn.MultiheadAttention`` projects to ``embed_dim`` split across heads,
with one packed ``in_proj_bias``. With ``key_dim = d / num_heads`` the counts agree:
``4·d² + 4·d`` for self-attention with biases.
"""

from __future__ import annotations

import sympy

from ..dims import as_expr, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Product, Requirement, Weight
from ..saved import Saved, saved_input
from .arguments import check_bool, check_int


class MultiHeadAttention(Layer):
    """Keras ``MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0,
    use_bias=True, output_shape=None, attention_axes=None, use_gate=False, ...)``,
    called as ``layer(query, value, key=None)`` (``key`` defaults to ``value``). In a
    Sequential stack, or called on one tensor, it is self-attention:
    ``query = value = key``.

    With ``H = num_heads``, ``value_dim`` defaulting to ``key_dim``, ``d_q, d_v, d_k``
    the last axes of query, value and key, and ``out = output_shape`` (default
    ``(d_q,)``), the weights are ``query/kernel (d_q, H, key_dim)``, ``key/kernel
    (d_k, H, key_dim)``, ``value/kernel (d_v, H, value_dim)``, ``attention_output/kernel
    (H, value_dim, *out)``; with ``use_bias`` the biases ``query/bias (H, key_dim)``,
    ``key/bias (H, key_dim)``, ``value/bias (H, value_dim)``, ``attention_output/bias
    (*out,)``; with ``use_gate`` also ``gate/kernel (d_q, H, value_dim)`` and
    ``gate/bias (H, value_dim)``. Output: ``(*query_shape[:-1], *out)``.

    ``value`` and ``key`` must agree on every axis but the last; query, value and key
    have the same rank (at least 3). MACs, with ``T_q``, ``T_k`` the products of the
    query's and key's attention axes and ``B`` the product of the other middle axes:
    the projections ``T_q·d_q·H·key_dim + T_k·(d_k·H·key_dim + d_v·H·value_dim)``
    (+ ``T_q·d_q·H·value_dim`` for the gate), the scores and the weighted sum
    ``B·H·T_q·T_k·(key_dim + value_dim)``, the output ``T_q·H·value_dim·prod(out)``.
    """

    n_inputs = None  # query, value[, key]; one tensor means self-attention

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None, use_gate=False, seed=None,
                 name=None):
        super().__init__(name)
        self.num_heads = as_expr(num_heads, "MultiHeadAttention num_heads")
        self.key_dim = as_expr(key_dim, "MultiHeadAttention key_dim")
        self.value_dim = self.key_dim if not value_dim else as_expr(value_dim, "MultiHeadAttention value_dim")
        self.dropout = dropout
        self.use_bias = check_bool(use_bias, "MultiHeadAttention", "use_bias")
        self.use_gate = check_bool(use_gate, "MultiHeadAttention", "use_gate")
        if not output_shape:
            self.output_dims = None  # the query's last axis
        elif isinstance(output_shape, (list, tuple)):
            self.output_dims = tuple(as_expr(s, "MultiHeadAttention output_shape") for s in output_shape)
        else:
            self.output_dims = (as_expr(output_shape, "MultiHeadAttention output_shape"),)
        if attention_axes is None:
            self.attention_axes = None
        else:
            axes = attention_axes if isinstance(attention_axes, (list, tuple)) else (attention_axes,)
            self.attention_axes = tuple(check_int(a, "MultiHeadAttention", "attention_axes") for a in axes)
        if sliding_window is not None and not (isinstance(sliding_window, int) and sliding_window > 0):
            raise ArgumentError("MultiHeadAttention: `sliding_window` must be `None` or a positive integer. "
                                f"Received: sliding_window={sliding_window!r}")
        self.sliding_window, self.flash_attention, self.seed = sliding_window, flash_attention, seed

    def __call__(self, query, value=None, key=None):
        """``layer(query, value, key=None)`` as in Keras; ``layer(x)`` is self-attention."""
        from ..graph import call_layer

        if isinstance(query, (list, tuple)) and value is None:
            inputs = list(query)
        else:
            inputs = [query, query if value is None else value] + ([] if key is None else [key])
        return call_layer(self, inputs)

    # -- shapes ---------------------------------------------------------------------

    @staticmethod
    def _shapes(shape):
        """``(query, value, key)`` from one shape (self-attention) or a tuple of 2 or 3."""
        if shape and isinstance(shape[0], tuple):
            if len(shape) not in (1, 2, 3):
                raise ShapeError(f"MultiHeadAttention takes query, value and optionally key. "
                                 f"Received {len(shape)} inputs")
            query = shape[0]
            value = shape[1] if len(shape) > 1 else query
            key = shape[2] if len(shape) > 2 else value
            return query, value, key
        return shape, shape, shape

    def _axes(self, rank):
        """The attention axes (Keras ``_build_attention``: all middle axes by default)."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        return tuple(a % rank if a < 0 else a for a in self.attention_axes)

    def requirements(self, shape):
        query, value, key = self._shapes(shape)
        if not len(query) == len(value) == len(key):
            raise ShapeError("MultiHeadAttention: query, value and key must have the same rank. Received: "
                             f"query_shape={size_text(query)}, value_shape={size_text(value)}, "
                             f"key_shape={size_text(key)}")
        rank = len(query)
        if rank < 3:
            raise ShapeError(f"MultiHeadAttention: expected inputs of rank at least 3 (batch, ..., features). "
                             f"Received: query_shape={size_text(query)}")
        axes = self._axes(rank)
        if not all(1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ShapeError(f"MultiHeadAttention: attention_axes must be distinct axes between the batch and the "
                             f"feature axis. Received: attention_axes={self.attention_axes} for inputs of rank {rank}")
        for i in range(1, rank - 1):
            yield Requirement(sympy.Eq(value[i], key[i]),
                              "All dimensions of `value` and `key`, except the last one, must be equal")
            if i not in axes:
                yield Requirement(sympy.Eq(query[i], value[i]),
                                  "The axes of `query` and `value` outside attention_axes must be equal")

    def _out(self, query):
        return self.output_dims if self.output_dims is not None else (query[-1],)

    def weights(self, shape):
        query, value, key = self._shapes(shape)
        heads, kd, vd = self.num_heads, self.key_dim, self.value_dim
        projections = [("query", query[-1], kd), ("key", key[-1], kd)]
        if self.use_gate:
            projections.append(("gate", query[-1], vd))
        projections.append(("value", value[-1], vd))
        for name, features, width in projections:
            yield Weight(f"{name}/kernel", (features, heads, width))
            if self.use_bias:
                yield Weight(f"{name}/bias", (heads, width))
        out = self._out(query)
        yield Weight("attention_output/kernel", (heads, vd, *out))
        if self.use_bias:
            yield Weight("attention_output/bias", out)

    def output_shape(self, shape):
        query = self._shapes(shape)[0]
        return (*query[:-1], *self._out(query))

    def products(self, shape):
        """Projections by the weights (query, key, value, optional gate, output) and the
        score and value products ``heads·T_q·T_k·(key_dim + value_dim)`` between activations."""
        query, value, key = self._shapes(shape)
        heads, kd, vd = self.num_heads, self.key_dim, self.value_dim
        t_q, t_k = product(query[1:-1]), product(key[1:-1])
        axes = self._axes(len(query))
        batch = product(query[i] for i in range(1, len(query) - 1) if i not in axes)
        attended_q = product(query[i] for i in axes)
        attended_k = product(key[i] for i in axes)
        projections = t_q * query[-1] * heads * kd + t_k * (key[-1] * heads * kd + value[-1] * heads * vd)
        if self.use_gate:
            projections += t_q * query[-1] * heads * vd
        attention = batch * heads * attended_q * attended_k * (kd + vd)
        projections += t_q * heads * vd * product(self._out(query))
        return (Product(projections, label="projections"),
                Product(attention, "activation", label="scores and values"))

    def saved(self, shape):
        """Training on Keras's torch backend, per example, for inputs of rank 3 (``T`` query
        and ``S`` key positions, ``h`` heads): the inputs (the query; the value, which the key
        projection also reads when no key is given; the key), the projected values
        ``S·h·value_dim`` and the heads' output made contiguous for the output projection
        ``T·h·value_dim``; then

        - with ``dropout > 0`` (Keras's explicit path): the scaled query ``T·h·key_dim``, the
          keys ``S·h·key_dim``, the softmax ``h·T·S``, its dropout mask and the dropped
          probabilities (``h·T·S`` each; these three recomputed under selective recomputation),
          and a 0-d constant once per batch;
        - without (``ops.dot_product_attention``): ``attention="flash"``: the projected query
          and keys, the fp32 log-sum-exp ``h·T`` and the kernel's output ``T·h·value_dim``;
          ``attention="eager"`` (torch's math kernel, which the CPU runs when ``key_dim`` and
          ``value_dim`` differ): the query and keys each scaled, and the softmax ``h·T·S``.

        Other ranks, ``use_gate`` and ``sliding_window`` are not declared (None)."""
        query, value, key = self._shapes(shape)
        if len(query) != 3 or self.use_gate or self.sliding_window is not None:
            return None
        heads, kd, vd = self.num_heads, self.key_dim, self.value_dim
        target, source = query[1], key[1]
        several = bool(shape) and isinstance(shape[0], tuple)
        out = [saved_input(shape)]
        if several:
            out += [saved_input(shape, i) for i in range(1, len(shape))]
        out += [Saved("values", source * heads * vd), Saved("heads' output copy", target * heads * vd)]
        scores = heads * target * source
        if self.dropout:
            out += [Saved("scaled query", target * heads * kd), Saved("keys", source * heads * kd),
                    Saved("softmax", scores, selective=True),
                    Saved("attention dropout mask", scores, "mask", selective=True),
                    Saved("dropped probabilities", scores, selective=True),
                    Saved("dropout scale", 1, per_batch=True)]
            return tuple(out)
        out += [Saved("query", target * heads * kd, attention="flash"),
                Saved("keys", source * heads * kd, attention="flash"),
                Saved("logsumexp", heads * target, "float32", attention="flash"),
                Saved("attention output", target * heads * vd, attention="flash"),
                Saved("scaled query", target * heads * kd, attention="eager"),
                Saved("scaled keys", source * heads * kd, attention="eager"),
                Saved("softmax", scores, selective=True, attention="eager")]
        return tuple(out)
