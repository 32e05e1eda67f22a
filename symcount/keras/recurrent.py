"""Keras recurrent layers and wrappers: ``SimpleRNN``, ``LSTM``, ``GRU``,
``Bidirectional``, ``TimeDistributed``.

An RNN layer's weights are its cell's (Keras paths ``lstm/lstm_cell/kernel``); symcount
names them without the cell scope, ``kernel``, ``recurrent_kernel``, ``bias``. A
wrapper's weights are the wrapped layer's, prefixed as Keras prefixes their paths:
``forward_lstm/kernel``, ``backward_lstm/kernel``; ``dense/kernel`` in TimeDistributed.

Where Keras and PyTorch count differently: Keras ``LSTM`` has one bias vector
``(4·units,)`` where torch has two (``bias_ih``, ``bias_hh``); Keras ``GRU`` with
``reset_after=True`` (the default) has a ``(2, 3·units)`` bias — the same count as
torch's two — and with ``reset_after=False`` a single ``(3·units,)``.
"""

from __future__ import annotations

from dataclasses import replace

import sympy

from ..derivation import Notation
from ..dims import as_expr, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Requirement, Weight, build, snake_case
from ..saved import Saved, elements
from .activations import check_activation
from .arguments import check_bool


class _RNN(Layer):
    """Keras ``RNN`` over one cell with ``gates · units`` columns (SimpleRNN 1, GRU 3,
    LSTM 4), on ``(batch, timesteps, features)``.

    Weights: ``kernel (features, gates·units)``, ``recurrent_kernel (units, gates·units)``,
    ``bias (gates·units,)``. Output ``(batch, timesteps, units)`` with
    ``return_sequences``, else ``(batch, units)``. MACs: ``timesteps · (features + units)
    · gates·units``.
    """

    gates: int
    notation = Notation({"units": "n"}, inputs=("n_in",))

    def _recurrent(self, units, use_bias, return_sequences, return_state, go_backwards, stateful, unroll):
        owner = type(self).__name__
        self.units = as_expr(units, f"{owner} units")
        self.use_bias = check_bool(use_bias, owner, "use_bias")
        self.return_sequences = check_bool(return_sequences, owner, "return_sequences")
        if return_state:
            raise ArgumentError(
                f"{owner}: return_state=True makes the layer return several tensors (the output and its "
                "states); a symcount layer has one output. The weights do not depend on it: count the "
                "layer with return_state=False. Received: return_state=True"
            )
        self.return_state = False
        self.go_backwards = check_bool(go_backwards, owner, "go_backwards")
        self.stateful = check_bool(stateful, owner, "stateful")
        self.unroll = check_bool(unroll, owner, "unroll")

    def requirements(self, shape):
        if len(shape) != 3:
            raise ShapeError(f"expected ndim=3 (batch, timesteps, features), found ndim={len(shape)}. "
                             f"Full shape received: {size_text(shape)}")
        if self.stateful and shape[0] is None:
            raise ShapeError("When using `stateful=True` in a RNN, the batch size must be static. "
                             f"Found dynamic batch size: sequence.shape={size_text(shape)}")
        return ()

    def _bias_shape(self):
        return (self.gates * self.units,)

    def weights(self, shape):
        columns = self.gates * self.units
        yield Weight("kernel", (shape[-1], columns))
        yield Weight("recurrent_kernel", (self.units, columns))
        if self.use_bias:
            yield Weight("bias", self._bias_shape())

    def output_shape(self, shape):
        if self.return_sequences:
            return (shape[0], shape[1], self.units)
        return (shape[0], self.units)

    def macs(self, shape):
        return shape[1] * (shape[-1] + self.units) * self.gates * self.units

    def _cells(self, steps, features, units, dropout: bool, recurrent: bool):
        """Elements per example the cell loop keeps besides the input (see :meth:`saved`)."""
        raise NotImplementedError

    def saved(self, shape):
        """Training on Keras's torch backend (``keras.src.backend.torch.rnn``: a Python loop
        over the time steps, no fused kernel), per example, ``T`` steps, ``I`` features,
        ``H = units``, measured with ``saved_tensors_hooks`` and fitted exactly over
        several ``(T, I, H)``:

        - SimpleRNN: the input, ``T·H + 2·H`` (the states and activations), ``+ 2·I`` with
          ``dropout``, ``+ (T + 1)·H`` with ``recurrent_dropout``;
        - LSTM: ``T·(I + 7·H)`` (a time-major copy of the input, gates and states), ``+ I``
          with ``dropout``; with ``recurrent_dropout`` ``T·(I + 10·H) + 13·H``, and with both
          ``T·(4·I + 10·H) + 8·I + 13·H`` (Keras then splits the input per gate);
        - GRU: ``T·(I + 8·H)`` with ``reset_after`` (``T·(I + 6·H) + 5·H`` without), ``+ I``
          (``+ 2·I`` without) with ``dropout``; with ``recurrent_dropout``
          ``T·(I + 9·H) + 11·H`` and with both ``T·(3·I + 9·H) + 6·I + 11·H`` either way.

        Only the activations measured are declared (``tanh`` or ``relu``, recurrent
        ``sigmoid``); others return None. ``go_backwards`` reverses the input into a copy
        (SimpleRNN keeps both; LSTM and GRU copy it anyway).
        """
        if self.activation not in ("tanh", "relu") or getattr(self, "recurrent_activation", "sigmoid") != "sigmoid":
            return None
        steps, features, units = shape[1], shape[2], self.units
        dropout, recurrent = bool(self.dropout), bool(self.recurrent_dropout)
        cells = self._cells(steps, features, units, dropout, recurrent)
        if isinstance(self, SimpleRNN):
            first = Saved("input", steps * features, tensor="input")
            if self.go_backwards:
                return (first, Saved("reversed input", steps * features), Saved("cells", cells))
            return (first, Saved("cells", cells))
        return (Saved("cells", cells),)


class SimpleRNN(_RNN):
    """Keras ``SimpleRNN(units, activation="tanh", use_bias=True, dropout=0.0,
    recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False, seed=None)`` on ``(batch, timesteps, features)``:
    ``h_t = activation(x_t · kernel + h_{t-1} · recurrent_kernel + bias)``.

    Weights: ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``. Output ``(batch, timesteps, units)`` with ``return_sequences``,
    else ``(batch, units)``. MACs: ``timesteps · (features + units) · units``.
    """

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, seed=None, name=None):
        super().__init__(name)
        self._recurrent(units, use_bias, return_sequences, return_state, go_backwards, stateful, unroll)
        self.activation = check_activation(activation, "SimpleRNN")
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed

    def _cells(self, steps, features, units, dropout, recurrent):
        return steps * units + 2 * units + (2 * features if dropout else 0) + ((steps + 1) * units if recurrent else 0)


class LSTM(_RNN):
    """Keras ``LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0, seed=None,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False,
    unroll=False, use_cudnn="auto")`` on ``(batch, timesteps, features)``; four gates
    (input, forget, cell, output).

    Weights: ``kernel (features, 4·units)``, ``recurrent_kernel (units, 4·units)``,
    ``bias (4·units,)`` — one bias vector (torch's LSTM has two). Output
    ``(batch, timesteps, units)`` with ``return_sequences``, else ``(batch, units)``.
    MACs: ``timesteps · (features + units) · 4·units``.
    """

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, use_cudnn="auto", name=None):
        super().__init__(name)
        self._recurrent(units, use_bias, return_sequences, return_state, go_backwards, stateful, unroll)
        self.activation = check_activation(activation, "LSTM")
        self.recurrent_activation = check_activation(recurrent_activation, "LSTM")
        self.unit_forget_bias = check_bool(unit_forget_bias, "LSTM", "unit_forget_bias")
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed
        if use_cudnn not in ("auto", True, False):
            raise ArgumentError(f"LSTM: Invalid valid received for argument `use_cudnn`. Expected one of "
                                f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def _cells(self, steps, features, units, dropout, recurrent):
        if recurrent:
            return (steps * (4 * features + 10 * units) + 8 * features + 13 * units if dropout
                    else steps * (features + 10 * units) + 13 * units)
        return steps * (features + 7 * units) + (features if dropout else 0)


class GRU(_RNN):
    """Keras ``GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
    return_state=False, go_backwards=False, stateful=False, unroll=False,
    reset_after=True, use_cudnn="auto")`` on ``(batch, timesteps, features)``; three
    gates (update, reset, candidate).

    Weights: ``kernel (features, 3·units)``, ``recurrent_kernel (units, 3·units)``, and
    ``bias (2, 3·units)`` with ``reset_after=True`` (separate input and recurrent biases,
    the count of torch's ``bias_ih`` + ``bias_hh``) or ``bias (3·units,)`` with
    ``reset_after=False``. Output ``(batch, timesteps, units)`` with
    ``return_sequences``, else ``(batch, units)``. MACs: ``timesteps · (features + units) · 3·units``.
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 reset_after=True, use_cudnn="auto", name=None):
        super().__init__(name)
        self._recurrent(units, use_bias, return_sequences, return_state, go_backwards, stateful, unroll)
        self.activation = check_activation(activation, "GRU")
        self.recurrent_activation = check_activation(recurrent_activation, "GRU")
        self.reset_after = check_bool(reset_after, "GRU", "reset_after")
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed
        if use_cudnn not in ("auto", True, False):
            raise ArgumentError(f"GRU: Invalid valid received for argument `use_cudnn`. Expected one of "
                                f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _cells(self, steps, features, units, dropout, recurrent):
        if recurrent:
            return (steps * (3 * features + 9 * units) + 6 * features + 11 * units if dropout
                    else steps * (features + 9 * units) + 11 * units)
        if self.reset_after:
            return steps * (features + 8 * units) + (features if dropout else 0)
        return steps * (features + 6 * units) + 5 * units + (2 * features if dropout else 0)


# ---------------------------------------------------------------------------
# Wrappers
# ---------------------------------------------------------------------------


def layer_name(layer: Layer) -> str:
    """The wrapped layer's name: its own, else Keras's automatic ``snake_case`` of its class."""
    return layer.name or snake_case(layer.type_name)


def _prefixed(weights, prefix: str) -> tuple[Weight, ...]:
    return tuple(replace(w, name=f"{prefix}/{w.name}") for w in weights)


def _inner_requirements(built, owner: str):
    for condition in built.conditions:
        yield Requirement(condition, f"{owner}: the wrapped layer needs {condition}")


def _check_wrappable(layer, owner: str) -> Layer:
    from ..graph import Block, Repeat

    if not isinstance(layer, Layer) or isinstance(layer, (Block, Repeat)) or layer.n_inputs != 1:
        raise ArgumentError(f"Please initialize `{owner}` layer with a single-input symcount layer. "
                            f"Received: layer={layer!r}")
    return layer


MERGE_MODES = ("sum", "mul", "ave", "concat")


class Bidirectional(Layer):
    """Keras ``Bidirectional(layer, merge_mode="concat", backward_layer=None)``: the RNN
    ``layer`` run forwards and a copy run backwards (``go_backwards=True``), or
    ``backward_layer`` when given.

    Weights: the forward layer's, named ``forward_<name>/…``, then the backward layer's,
    ``backward_<name>/…`` (a given ``backward_layer`` keeps its own name) — two sets of
    weights, so twice the parameters of ``layer`` by default. Output: the RNN's, with
    ``merge_mode="concat"`` the last axis ``units_forward + units_backward``; with
    ``"sum"``, ``"mul"``, ``"ave"`` the RNN's shape (the two directions' units must be
    equal, or one of them 1, which broadcasts: ``max`` of the two). ``merge_mode=None``
    returns two tensors, which a symcount layer cannot. As Keras: the two directions must have different ``go_backwards`` and the same
    ``return_sequences`` and ``stateful``. MACs: both directions'.
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, name=None):
        super().__init__(name)
        if not isinstance(layer, _RNN):
            raise ArgumentError("Bidirectional: `layer` must be a recurrent layer (SimpleRNN, LSTM, GRU). "
                                f"Received: layer={layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, _RNN):
            raise ArgumentError("Bidirectional: `backward_layer` must be a recurrent layer (SimpleRNN, LSTM, GRU). "
                                f"Received: backward_layer={backward_layer!r}")
        if merge_mode is None:
            raise ArgumentError(
                "Bidirectional: merge_mode=None returns the forward and backward outputs as two tensors; "
                "a symcount layer has one output. The weights do not depend on merge_mode: count with "
                "merge_mode='concat'. Received: merge_mode=None"
            )
        if merge_mode not in MERGE_MODES:
            raise ArgumentError(f"Bidirectional: Invalid merge mode. Merge mode should be one of "
                                f'{{"sum", "mul", "ave", "concat", None}}. Received: merge_mode={merge_mode!r}')
        self.layer, self.merge_mode = layer, merge_mode
        self.backward_layer = backward_layer
        name = layer_name(layer)
        self.forward_name = "forward_" + name.removeprefix("forward_")
        if backward_layer is None:
            self.backward_name = "backward_" + name.removeprefix("backward_")
            backward_go = True
        else:
            self.backward_name = layer_name(backward_layer)
            backward_go = backward_layer.go_backwards
        if layer.go_backwards == backward_go:
            raise ArgumentError("Bidirectional: Forward layer and backward layer should have different "
                                f"`go_backwards` value. Received: forward_layer.go_backwards {layer.go_backwards}, "
                                f"backward_layer.go_backwards={backward_go}")
        backward = backward_layer or layer
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(layer, attribute) != getattr(backward, attribute):
                raise ArgumentError(f"Bidirectional: Forward layer and backward layer are expected to have the same "
                                    f'value for attribute "{attribute}", got "{getattr(layer, attribute)}" for '
                                    f'forward layer and "{getattr(backward, attribute)}" for backward layer')

    def _built(self, shape):
        forward = build(self.layer, tuple(shape))
        backward = forward if self.backward_layer is None else build(self.backward_layer, tuple(shape))
        return forward, backward

    def requirements(self, shape):
        forward, backward = self._built(shape)
        yield from _inner_requirements(forward, "Bidirectional")
        if self.backward_layer is not None:
            yield from _inner_requirements(backward, "Bidirectional")
            if self.merge_mode != "concat":
                a, b = forward.output_shape[-1], backward.output_shape[-1]
                yield Requirement(sympy.Or(sympy.Eq(a, b), sympy.Eq(a, 1), sympy.Eq(b, 1)),
                                  f"Bidirectional: merge_mode={self.merge_mode!r} combines the two outputs "
                                  "elementwise: the forward and backward units must be equal (or one of them 1, "
                                  "which broadcasts)")

    def weights(self, shape):
        forward, backward = self._built(shape)
        return _prefixed(forward.weights, self.forward_name) + _prefixed(backward.weights, self.backward_name)

    def output_shape(self, shape):
        forward, backward = self._built(shape)
        a, b = forward.output_shape[-1], backward.output_shape[-1]
        if self.merge_mode == "concat":
            return (*forward.output_shape[:-1], a + b)
        return (*forward.output_shape[:-1], sympy.Max(a, b))  # elementwise, a size of 1 broadcasting

    def macs(self, shape):
        forward, backward = self._built(shape)
        return forward.macs + backward.macs

    def saved(self, shape):
        """Training: both directions' tensors (the input, when both keep it, once);
        ``merge_mode="mul"``
        also keeps both outputs, ``concat``, ``sum`` and ``ave`` nothing."""
        forward, backward = self._built(shape)
        if forward.saved is None or backward.saved is None:
            return None
        back = list(backward.saved)  # its "input" entries are the same input: counted once
        merge = ()
        if self.merge_mode == "mul":
            merge = (Saved("both outputs", elements(forward.output_shape) + elements(backward.output_shape)),)
        return (*forward.saved, *back, *merge)


class TimeDistributed(Layer):
    """Keras ``TimeDistributed(layer)``: ``layer`` applied to every temporal slice of a
    ``(batch, timesteps, …)`` input (rank at least 3), with one set of weights.

    The wrapped layer is built on ``(batch, *input_shape[2:])``. Weights: the wrapped
    layer's, named ``<name>/…`` (``dense/kernel``). Output
    ``(batch, timesteps, *inner_output[1:])``. MACs: ``timesteps ·`` the wrapped layer's.
    """

    def __init__(self, layer, name=None):
        super().__init__(name)
        self.layer = _check_wrappable(layer, "TimeDistributed")
        self.inner_name = layer_name(layer)

    def _inner(self, shape):
        if len(shape) < 3:
            raise ShapeError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                             f"dimensions, received: {size_text(shape)}")
        return build(self.layer, (shape[0], *shape[2:]))

    def requirements(self, shape):
        yield from _inner_requirements(self._inner(shape), "TimeDistributed")

    def weights(self, shape):
        return _prefixed(self._inner(shape).weights, self.inner_name)

    def output_shape(self, shape):
        inner = self._inner(shape).output_shape
        return (inner[0], shape[1], *inner[1:])

    def macs(self, shape):
        return shape[1] * self._inner(shape).macs

    def saved(self, shape):
        """Training: the inner layer's tensors once per time step (Keras runs it on each
        step); its input entry is the whole input, its output entries per-step tensors."""
        inner = self._inner(shape).saved
        if inner is None:
            return None
        return tuple(replace(t, size=t.size * shape[1], tensor="input" if t.tensor == "input" else "")
                     for t in inner)
