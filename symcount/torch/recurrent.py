"""torch recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (``num_layers``, ``bias``,
``bidirectional``, ``proj_size`` for LSTM, ``batch_first``).

torch keeps two bias vectors per layer and direction, ``bias_ih`` and ``bias_hh`` (the
second "for CuDNN compatibility"); Keras's LSTM has one. Shapes are time-major
``(L, N, H_in)`` by default, ``(N, L, H_in)`` with ``batch_first=True`` — the batch axis
(``None``) must be where ``batch_first`` says. The output shape is that of ``output``,
the first of torch's return values (``h_n``/``c_n`` are not followed).
"""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import decided
from ..errors import ArgumentError
from ..layer import Layer, Requirement, Weight
from ..saved import Saved
from .common import equal, expect_sequence, flag, nonneg, probability, saved_input, size


class _RNNBase(Layer):
    """Shared by RNN, LSTM and GRU: torch's ``RNNBase`` weights and shape rule."""

    #: gate_size = gates · hidden_size (RNN 1, LSTM 4, GRU 3)
    gates = 1
    notation = Notation({"input_size": "n_in", "hidden_size": "h"}, inputs=("n_in",))

    def _base(self, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size=0):
        owner = type(self).__name__
        self.input_size = size(input_size, f"{owner} input_size")
        self.hidden_size = size(hidden_size, f"{owner} hidden_size")
        self.num_layers = size(num_layers, f"{owner} num_layers")
        self.bias = flag(bias, f"{owner}: bias")
        self.batch_first = flag(batch_first, f"{owner}: batch_first")
        self.dropout = probability(dropout, f"{owner}: dropout")
        self.bidirectional = bool(bidirectional)
        self.proj_size = nonneg(proj_size, f"{owner} proj_size")
        if decided(self._proj_smaller()) is False:
            raise ArgumentError(f"{owner}: proj_size has to be smaller than hidden_size. "
                                f"Received: proj_size={self.proj_size}, hidden_size={self.hidden_size}")

    def _proj_smaller(self):
        return sympy.true if self.proj_size == 0 else sympy.Lt(self.proj_size, self.hidden_size)

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self):
        """``proj_size`` when projecting (LSTM), else ``hidden_size``: the size of ``h``."""
        return self.hidden_size if self.proj_size == 0 else self.proj_size

    def _layer_weights(self, layer_input):
        """One layer and direction, unnamed suffix: torch's ``RNNBase.__init__`` order."""
        gate_size = self.gates * self.hidden_size
        yield Weight("weight_ih", (gate_size, layer_input))
        yield Weight("weight_hh", (gate_size, self.real_hidden_size))
        if self.bias:
            yield Weight("bias_ih", (gate_size,))
            yield Weight("bias_hh", (gate_size,))
        if self.proj_size != 0:
            yield Weight("weight_hr", (self.proj_size, self.hidden_size))

    def _inputs(self):
        """(layer index or '*', its input size, how many such layers) for layer 0, then the
        rest — enumerated for a numeric ``num_layers``, stacked for a symbolic one."""
        rest_input = self.real_hidden_size * self.directions
        yield 0, self.input_size, 1
        if self.num_layers.is_Integer:
            for layer in range(1, int(self.num_layers)):
                yield layer, rest_input, 1
        else:
            yield "*", rest_input, self.num_layers - 1

    def requirements(self, shape):
        expect_sequence(self, shape, self.batch_first)
        yield equal(shape[-1], self.input_size, f"input.size(-1) must be equal to input_size ({self.input_size})")
        yield Requirement(self._proj_smaller(), "proj_size has to be smaller than hidden_size")

    def weights(self, shape):
        for layer, layer_input, count in self._inputs():
            for direction in range(self.directions):
                suffix = "_reverse" if direction == 1 else ""
                for w in self._layer_weights(layer_input):
                    name = f"{w.name}_l{layer}{suffix}"
                    yield Weight(name, w.shape if count == 1 else (count, *w.shape))

    def output_shape(self, shape):
        return (*shape[:-1], self.directions * self.real_hidden_size)

    def saved(self, shape):
        """Training, torch's native CPU kernel (``_VF.rnn_tanh``/``lstm``/``gru`` composed of
        ATen ops; oneDNN's LSTM keeps an opaque workspace instead, so disable it with
        ``torch.backends.mkldnn.flags(enabled=False)`` to compare). Per example, with ``L``
        steps, ``H = hidden_size``, ``H_out`` the size of ``h`` and ``D`` directions:

        - layer 0's input: the input itself (time-major; the input projection of all steps
          is one product), or with ``batch_first`` a contiguous time-major copy;
        - every further layer's input, ``L·D·H_out`` (the previous layer's stacked output),
          and with ``dropout > 0`` the dropout mask of that size;
        - per layer and direction, the cells: RNN ``(L + 1)·H`` (``h₀`` and every step's
          ``h``, kept by the ``tanh``/``relu`` and by the next step's product); LSTM
          ``L·(H_out + 6·H)`` (``h_{t−1}``, the four gates ``4H`` activated in place,
          ``c_{t−1}`` and ``tanh(c_t)``) plus ``L·H`` with ``proj_size`` (the hidden state
          before its projection); GRU ``L·7·H`` (``h_{t−1}``, the three hidden gates, a copy
          of the new gate's hidden part made before ``mul_``, ``tanh`` of the new gate and
          ``h_{t−1} − n_t``)."""
        steps = shape[1] if self.batch_first else shape[0]
        h, h_out, d = self.hidden_size, self.real_hidden_size, self.directions
        first = (Saved("time-major input", steps * self.input_size) if self.batch_first else saved_input(shape))
        yield first
        further = self.num_layers - 1
        if further != 0:
            yield Saved("layer inputs", further * steps * d * h_out)
            if self.dropout > 0:
                yield Saved("dropout masks", further * steps * d * h_out, "mask")
        if self.gates == 1:
            cells = (steps + 1) * h
        elif self.gates == 4:
            cells = steps * (h_out + 6 * h) + (steps * h if self.proj_size != 0 else 0)
        else:
            cells = steps * 7 * h
        yield Saved("cells", self.num_layers * d * cells)

    def macs(self, shape):
        steps = shape[1] if self.batch_first else shape[0]
        per_step = 0
        for _, layer_input, count in self._inputs():
            gate_size = self.gates * self.hidden_size
            one = gate_size * (layer_input + self.real_hidden_size)
            if self.proj_size != 0:
                one += self.proj_size * self.hidden_size
            per_step += count * self.directions * one
        return steps * per_step


_RULE = """

    Weights, for each layer ``k`` (``0 … num_layers − 1``) and direction (suffix
    ``_reverse`` for the second when ``bidirectional``), with ``gate_size = {gates}·hidden_size``,
    ``H_out = {h_out}`` and layer input ``input_size`` for ``k = 0``, else ``D·H_out``:
    ``weight_ih_l{{k}} (gate_size, layer input)``, ``weight_hh_l{{k}} (gate_size, H_out)``, and
    when ``bias`` two bias vectors ``bias_ih_l{{k}}``, ``bias_hh_l{{k}} (gate_size,)``{extra}.
    A symbolic ``num_layers`` declares layers ``1 … num_layers − 1`` as stacked weights
    ``weight_ih_l*`` with a leading axis ``num_layers − 1``.
    Output (``output``): ``(L, N, D·H_out)``, or ``(N, L, D·H_out)`` with ``batch_first``,
    ``D = 2`` when ``bidirectional``. MACs: per time step, per layer and direction,
    ``gate_size · (layer input + H_out)``{macs_extra}.
    """


class RNN(_RNNBase):
    __doc__ = ("torch ``nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, "
               "batch_first=False, dropout=0.0, bidirectional=False)``: an Elman RNN, ``nonlinearity`` "
               "``'tanh'`` or ``'relu'``." + _RULE.format(gates=1, h_out="hidden_size", extra="", macs_extra=""))
    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, name=None):
        super().__init__(name)
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        self._base(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class LSTM(_RNNBase):
    __doc__ = ("torch ``nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, "
               "dropout=0.0, bidirectional=False, proj_size=0)``: LSTM, optionally with projections "
               "(``0 < proj_size < hidden_size``)." +
               _RULE.format(gates=4, h_out="proj_size if proj_size > 0 else hidden_size",
                            extra=", and ``weight_hr_l{k} (proj_size, hidden_size)`` when ``proj_size > 0``",
                            macs_extra=", plus ``proj_size · hidden_size`` for the projection"))
    gates = 4

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, name=None):
        super().__init__(name)
        self._base(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size)


class GRU(_RNNBase):
    __doc__ = ("torch ``nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, "
               "dropout=0.0, bidirectional=False)``: GRU (torch's two biases make it count like "
               "Keras's GRU with ``reset_after=True``)." +
               _RULE.format(gates=3, h_out="hidden_size", extra="", macs_extra=""))
    gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, name=None):
        super().__init__(name)
        self._base(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
