"""Generate the layer reference, docs/reference/keras.md and docs/reference/torch.md,
from the classes that ``symcount.keras`` and ``symcount.torch`` export.

Each layer is built on a symbolic example (its sizes are dims), and its entry is read
off what symcount computes for that example: the declared weights with their shapes,
the derivations of ``symcount.derivation.derive`` (parameters, output sizes, MACs) in
LaTeX, the output shape and the validity conditions. Where the layer has a notation, a
worked example with numbers follows (the same derivation after substitution). The
counterpart in the other framework is built on the same dims and the difference of the
parameter counts is computed. Nothing in an entry is written by hand except the example
configuration below and the docstring that the class already has.

    python docs/gen_reference.py            # (re)write the pages
    python docs/gen_reference.py --check    # exit 1 when a page is not up to date

``tests/test_docs.py`` runs the check, and checks that every exported layer class has an
entry.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import sympy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import symcount as sc  # noqa: E402
from symcount import keras as K  # noqa: E402
from symcount import torch as T  # noqa: E402
from symcount.derivation import derive  # noqa: E402
from symcount.errors import SymcountError  # noqa: E402
from symcount.layer import InputLayer, Layer  # noqa: E402
from symcount import printing  # noqa: E402

OUT = ROOT / "docs" / "reference"


@dataclass(frozen=True)
class Example:
    """A layer built from ``code`` (evaluated with the front end's names; any other name
    is a dim) and called on ``inputs``: one shape, or a list of shapes for a layer that
    takes several tensors. ``values`` bind the dims for the worked example."""

    code: str
    inputs: str
    values: dict | None = None


def E(code, inputs, **values):
    return Example(code, inputs, values or None)


# Worked examples bind these values (a layer's example may override them).
VALUES = {"C_in": 3, "C_out": 16, "C": 16, "k": 3, "k_h": 3, "k_w": 3, "k_d": 3, "s": 2, "s_h": 2, "s_w": 2,
          "s_d": 2, "p": 2, "p_h": 2, "p_w": 2, "p_d": 2, "H_in": 32, "W_in": 32, "D_in": 8, "L_in": 100,
          "L": 10, "E": 16, "H": 32, "n_in": 64, "n_out": 10, "V": 1000, "d": 64, "g": 4, "m": 2, "h": 4}

KERAS = {
    "Activation": E('Activation("relu")', "(L, C)"),
    "Add": E("Add()", "[(L, C), (L, C)]"),
    "CustomScaleLayer": E("CustomScaleLayer(0.17)", "[(H_in, W_in, C), (H_in, W_in, C)]"),
    "Average": E("Average()", "[(L, C), (L, C)]"),
    "AveragePooling1D": E("AveragePooling1D(p)", "(L_in, C)"),
    "AveragePooling2D": E("AveragePooling2D((p_h, p_w))", "(H_in, W_in, C)"),
    "AveragePooling3D": E("AveragePooling3D(2)", "(D_in, H_in, W_in, C)"),
    "BatchNormalization": E("BatchNormalization()", "(H_in, W_in, C)"),
    "Bidirectional": E("Bidirectional(LSTM(H))", "(L, E)"),
    "Block": E('Block("mlp", [Dense(4 * d, activation="gelu"), Dense(d)])', "(L, d)"),
    "Concatenate": E("Concatenate()", "[(L, C_1), (L, C_2)]"),
    "Conv1D": E("Conv1D(C_out, k, strides=s)", "(L_in, C_in)"),
    "Conv1DTranspose": E("Conv1DTranspose(C_out, k, strides=s)", "(L_in, C_in)"),
    "Conv2D": E("Conv2D(C_out, (k_h, k_w), strides=(s_h, s_w))", "(H_in, W_in, C_in)"),
    "Conv2DTranspose": E("Conv2DTranspose(C_out, (k_h, k_w), strides=(s_h, s_w))", "(H_in, W_in, C_in)"),
    "Conv3D": E("Conv3D(C_out, (k_d, k_h, k_w))", "(D_in, H_in, W_in, C_in)"),
    "Conv3DTranspose": E("Conv3DTranspose(C_out, (k_d, k_h, k_w))", "(D_in, H_in, W_in, C_in)"),
    "Cropping1D": E("Cropping1D((1, 2))", "(L, C)"),
    "Cropping2D": E("Cropping2D(((1, 2), (3, 4)))", "(H_in, W_in, C)"),
    "Cropping3D": E("Cropping3D(1)", "(D_in, H_in, W_in, C)"),
    "Dense": E("Dense(n_out)", "(n_in,)"),
    "DepthwiseConv1D": E("DepthwiseConv1D(k, depth_multiplier=m)", "(L_in, C_in)"),
    "DepthwiseConv2D": E("DepthwiseConv2D((k_h, k_w), depth_multiplier=m)", "(H_in, W_in, C_in)"),
    "Dot": E("Dot(axes=2)", "[(L_1, C), (L_2, C)]"),
    "Dropout": E("Dropout(0.5)", "(n,)"),
    "Embedding": E("Embedding(V, d)", "(L,)"),
    "Flatten": E("Flatten()", "(H_in, W_in, C)"),
    "GRU": E("GRU(H)", "(L, E)"),
    "GlobalAveragePooling1D": E("GlobalAveragePooling1D()", "(L, C)"),
    "GlobalAveragePooling2D": E("GlobalAveragePooling2D()", "(H_in, W_in, C)"),
    "GlobalAveragePooling3D": E("GlobalAveragePooling3D()", "(D_in, H_in, W_in, C)"),
    "GlobalMaxPooling1D": E("GlobalMaxPooling1D()", "(L, C)"),
    "GlobalMaxPooling2D": E("GlobalMaxPooling2D()", "(H_in, W_in, C)"),
    "GlobalMaxPooling3D": E("GlobalMaxPooling3D()", "(D_in, H_in, W_in, C)"),
    "GroupNormalization": E("GroupNormalization(groups=g)", "(H_in, W_in, C)"),
    "InputLayer": E("Input((H_in, W_in, C))", "(H_in, W_in, C)"),
    "LSTM": E("LSTM(H)", "(L, E)"),
    "LayerNormalization": E("LayerNormalization()", "(L, d)"),
    "LayerScale": E("LayerScale(1e-6, C)", "(H_in, W_in, C)"),
    "MaxPooling1D": E("MaxPooling1D(p)", "(L_in, C)"),
    "MaxPooling2D": E("MaxPooling2D((p_h, p_w))", "(H_in, W_in, C)"),
    "MaxPooling3D": E("MaxPooling3D(2)", "(D_in, H_in, W_in, C)"),
    "Maximum": E("Maximum()", "[(L, C), (L, C)]"),
    "Minimum": E("Minimum()", "[(L, C), (L, C)]"),
    "MultiHeadAttention": E("MultiHeadAttention(num_heads=h, key_dim=k)", "[(L_q, E), (L_k, E)]"),
    "Multiply": E("Multiply()", "[(L, C), (L, C)]"),
    "Normalization": E("Normalization()", "(L, C)"),
    "Permute": E("Permute((2, 1))", "(L, C)"),
    "ReLU": E("ReLU(max_value=6.0)", "(n,)"),
    "Repeat": E("Repeat(Dense(d), N)", "(d,)"),
    "RepeatVector": E("RepeatVector(n)", "(d,)"),
    "Rescaling": E("Rescaling(1 / 255)", "(H_in, W_in, C)"),
    "StochasticDepth": E("StochasticDepth(0.1)", "(H_in, W_in, C)"),
    "Reshape": E("Reshape((H_in, W_in))", "(n,)"),
    "SeparableConv1D": E("SeparableConv1D(C_out, k)", "(L_in, C_in)"),
    "SeparableConv2D": E("SeparableConv2D(C_out, (k_h, k_w))", "(H_in, W_in, C_in)"),
    "SimpleRNN": E("SimpleRNN(H)", "(L, E)"),
    "Subtract": E("Subtract()", "[(L, C), (L, C)]"),
    "TimeDistributed": E("TimeDistributed(Dense(n_out))", "(L, n_in)"),
    "UnitNormalization": E("UnitNormalization()", "(n,)"),
    "UpSampling1D": E("UpSampling1D(2)", "(L, C)"),
    "UpSampling2D": E("UpSampling2D((2, 3))", "(H_in, W_in, C)"),
    "UpSampling3D": E("UpSampling3D(2)", "(D_in, H_in, W_in, C)"),
    "ZeroPadding1D": E("ZeroPadding1D(1)", "(L, C)"),
    "ZeroPadding2D": E("ZeroPadding2D(((1, 2), (3, 4)))", "(H_in, W_in, C)"),
    "ZeroPadding3D": E("ZeroPadding3D(1)", "(D_in, H_in, W_in, C)"),
}

_ELEMENTWISE = ["CELU", "ELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "Identity",
                "LeakyReLU", "LogSigmoid", "Mish", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softplus",
                "Softshrink", "Softsign", "Tanh", "Tanhshrink"]

TORCH = {
    **{name: E(f"{name}()", "(C, H_in, W_in)") for name in _ELEMENTWISE},
    "AdaptiveAvgPool1d": E("AdaptiveAvgPool1d(L_out)", "(C, L_in)"),
    "AdaptiveAvgPool2d": E("AdaptiveAvgPool2d((H_out, W_out))", "(C, H_in, W_in)"),
    "AdaptiveAvgPool3d": E("AdaptiveAvgPool3d(1)", "(C, D_in, H_in, W_in)"),
    "AdaptiveMaxPool1d": E("AdaptiveMaxPool1d(L_out)", "(C, L_in)"),
    "AdaptiveMaxPool2d": E("AdaptiveMaxPool2d((H_out, W_out))", "(C, H_in, W_in)"),
    "AdaptiveMaxPool3d": E("AdaptiveMaxPool3d(1)", "(C, D_in, H_in, W_in)"),
    "Add": E("Add()", "[(C, H_in, W_in), (C, H_in, W_in)]"),
    "AlphaDropout": E("AlphaDropout(0.1)", "(n,)"),
    "AvgPool1d": E("AvgPool1d(k, stride=s)", "(C, L_in)"),
    "AvgPool2d": E("AvgPool2d((k_h, k_w), stride=(s_h, s_w))", "(C, H_in, W_in)"),
    "AvgPool3d": E("AvgPool3d(2)", "(C, D_in, H_in, W_in)"),
    "BatchNorm1d": E("BatchNorm1d(C)", "(C, L)"),
    "BatchNorm2d": E("BatchNorm2d(C)", "(C, H_in, W_in)"),
    "BatchNorm3d": E("BatchNorm3d(C)", "(C, D_in, H_in, W_in)"),
    "Bilinear": E("Bilinear(n_1, n_2, n_out)", "[(n_1,), (n_2,)]"),
    "Block": E('Block("mlp", [Linear(d, 4 * d), GELU(), Linear(4 * d, d)])', "(L, d)"),
    "Cat": E("Cat(dim=1)", "[(C_1, H_in, W_in), (C_2, H_in, W_in)]"),
    "Conv1d": E("Conv1d(C_in, C_out, k, stride=s)", "(C_in, L_in)"),
    "Conv2d": E("Conv2d(C_in, C_out, (k_h, k_w), stride=(s_h, s_w))", "(C_in, H_in, W_in)"),
    "Conv3d": E("Conv3d(C_in, C_out, (k_d, k_h, k_w))", "(C_in, D_in, H_in, W_in)"),
    "ConvTranspose1d": E("ConvTranspose1d(C_in, C_out, k, stride=s)", "(C_in, L_in)"),
    "ConvTranspose2d": E("ConvTranspose2d(C_in, C_out, (k_h, k_w), stride=(s_h, s_w))", "(C_in, H_in, W_in)"),
    "ConvTranspose3d": E("ConvTranspose3d(C_in, C_out, (k_d, k_h, k_w))", "(C_in, D_in, H_in, W_in)"),
    "Dropout": E("Dropout(0.5)", "(n,)"),
    "Dropout1d": E("Dropout1d(0.5)", "(C, L)"),
    "Dropout2d": E("Dropout2d(0.5)", "(C, H_in, W_in)"),
    "Dropout3d": E("Dropout3d(0.5)", "(C, D_in, H_in, W_in)"),
    "Embedding": E("Embedding(V, d)", "(L,)"),
    "Flatten": E("Flatten()", "(C, H_in, W_in)"),
    "GLU": E("GLU()", "(L, 2 * d)"),
    "GRU": E("GRU(E, H, batch_first=True)", "(L, E)"),
    "GroupNorm": E("GroupNorm(g, C)", "(C, H_in, W_in)"),
    "Input": E("Input((C, H_in, W_in))", "(C, H_in, W_in)"),
    "InstanceNorm1d": E("InstanceNorm1d(C, affine=True)", "(C, L)"),
    "InstanceNorm2d": E("InstanceNorm2d(C, affine=True)", "(C, H_in, W_in)"),
    "InstanceNorm3d": E("InstanceNorm3d(C, affine=True)", "(C, D_in, H_in, W_in)"),
    "LSTM": E("LSTM(E, H, batch_first=True)", "(L, E)"),
    "LayerNorm": E("LayerNorm(d)", "(L, d)"),
    "Linear": E("Linear(n_in, n_out)", "(n_in,)"),
    "LogSoftmax": E("LogSoftmax(dim=1)", "(n,)"),
    "MaxPool1d": E("MaxPool1d(k, stride=s)", "(C, L_in)"),
    "MaxPool2d": E("MaxPool2d((k_h, k_w), stride=(s_h, s_w))", "(C, H_in, W_in)"),
    "MaxPool3d": E("MaxPool3d(2)", "(C, D_in, H_in, W_in)"),
    "MultiheadAttention": E("MultiheadAttention(E, h, batch_first=True)", "(L, E)"),
    "PReLU": E("PReLU(C)", "(C, H_in, W_in)"),
    "RMSNorm": E("RMSNorm(d)", "(L, d)"),
    "RNN": E("RNN(E, H, batch_first=True)", "(L, E)"),
    "Repeat": E("Repeat(Linear(d, d), N)", "(d,)"),
    "Softmax": E("Softmax(dim=1)", "(n,)"),
    "Softmax2d": E("Softmax2d()", "(C, H_in, W_in)"),
    "Softmin": E("Softmin(dim=1)", "(n,)"),
    "Threshold": E("Threshold(0.1, 0.0)", "(C, H_in, W_in)"),
    "TimeMajorInput": E("TimeMajorInput((L, E))", "(L, E)"),
    "Transformer": E("Transformer(d, h, num_encoder_layers=N_e, num_decoder_layers=N_d, dim_feedforward=f, "
                     "batch_first=True)", "[(S, d), (L, d)]"),
    "TransformerDecoder": E("TransformerDecoder(TransformerDecoderLayer(d, h, f, batch_first=True), N)",
                            "[(L, d), (S, d)]"),
    "TransformerDecoderLayer": E("TransformerDecoderLayer(d, h, f, batch_first=True)", "[(L, d), (S, d)]"),
    "TransformerEncoder": E("TransformerEncoder(TransformerEncoderLayer(d, h, f, batch_first=True), N)",
                            "(S, d)"),
    "TransformerEncoderLayer": E("TransformerEncoderLayer(d, h, f, batch_first=True)", "(S, d)"),
    "Unflatten": E("Unflatten(1, (C, L))", "(n,)"),
}

# Keras class → (PyTorch class, values under which the two counts agree, or None)
PAIRS = {
    "Dense": "Linear", "Conv1D": "Conv1d", "Conv2D": "Conv2d", "Conv3D": "Conv3d",
    "Conv1DTranspose": "ConvTranspose1d", "Conv2DTranspose": "ConvTranspose2d", "Conv3DTranspose": "ConvTranspose3d",
    "BatchNormalization": "BatchNorm2d", "LayerNormalization": "LayerNorm", "GroupNormalization": "GroupNorm",
    "Embedding": "Embedding", "SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU",
    "MultiHeadAttention": "MultiheadAttention", "MaxPooling1D": "MaxPool1d", "MaxPooling2D": "MaxPool2d",
    "MaxPooling3D": "MaxPool3d", "AveragePooling1D": "AvgPool1d", "AveragePooling2D": "AvgPool2d",
    "AveragePooling3D": "AvgPool3d", "Flatten": "Flatten", "Dropout": "Dropout", "Add": "Add",
    "Concatenate": "Cat", "ReLU": "ReLU", "InputLayer": "Input", "Block": "Block", "Repeat": "Repeat",
}

# Where two counterparts count differently, the values under which they agree.
WHEN = {"MultiHeadAttention": {"k": "E / h"}}

FRONT_ENDS = {
    "keras": dict(module=K, examples=KERAS, title="Keras layers: `symcount.keras`", other="torch",
                  framework="Keras 3", layout="channels-last"),
    "torch": dict(module=T, examples=TORCH, title="PyTorch layers: `symcount.torch`", other="keras",
                  framework="PyTorch", layout="channels-first"),
}


# ---------------------------------------------------------------------------
# Building an example
# ---------------------------------------------------------------------------


class _Names(dict):
    """The front end's names; any other name is a dim of that name."""

    def __missing__(self, key):
        if key.startswith("__"):
            raise KeyError(key)
        return sc.dim(key)


def _namespace(module):
    names = _Names({n: getattr(module, n) for n in module.__all__})
    names["Input"] = module.Input
    return names


def layer_classes(module) -> dict[str, type]:
    """The layer classes a front end exports, by name (``Input`` is the InputLayer's factory)."""
    out = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, type) and issubclass(obj, Layer):
            out[name] = obj
    return out


@dataclass
class Built:
    name: str
    cls: type
    example: Example
    count: object
    record: object | None


def build(front: str, name: str) -> Built:
    spec = FRONT_ENDS[front]
    module, example = spec["module"], spec["examples"][name]
    names = _namespace(module)
    layer = eval(example.code, {"__builtins__": {}}, names)  # noqa: S307 - this file's own examples
    shapes = eval(example.inputs, {"__builtins__": {}}, names)  # noqa: S307
    cls = getattr(module, name)
    if isinstance(layer, InputLayer):
        return Built(name, cls, example, None, None)
    if isinstance(shapes, list):
        inputs = [module.Input(s) for s in shapes]
        model = sc.Model(inputs, layer(inputs), name="example")
        count = model.count()
    elif front == "keras":
        count = sc.Sequential([module.Input(shapes), layer], name="example").count()
    else:
        count = sc.Sequential([layer], name="example").count(input_shape=shapes)
    records = [r for r in count.layers if not isinstance(r.layer, InputLayer)]
    single = len(records) == 1 and records[0].repeat == 1 and not records[0].path
    record = records[0] if single else None
    return Built(name, cls, example, count, record)


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _md(text: str) -> str:
    """reStructuredText-ish docstring text as Markdown: ``x`` → `x`."""
    text = re.sub(r"``(.+?)``", r"`\1`", text, flags=re.S)
    text = re.sub(r":(?:class|func|meth|mod):`~?([^`]+)`", r"`\1`", text)
    return text


def summary(cls) -> str:
    doc = inspect.getdoc(cls) or ""
    paragraphs = [p for p in doc.split("\n\n") if p.strip()]
    if not paragraphs:
        return ""
    first = " ".join(line.strip() for line in paragraphs[0].splitlines())
    return _md(first)


def _tex(expr) -> str:
    return printing.latex(expr)


def _web(tex: str) -> str:
    """LaTeX for MathJax: ``\\text{self\\_attn}`` is pdflatex's escape; MathJax's text is literal."""
    return re.sub(r"\\text\{([^{}]*)\}", lambda m: "\\text{" + m.group(1).replace("\\_", "_") + "}", tex)


def _shape(shape) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_shape(s) for s in shape)
    return printing.shape(shape, "latex").replace("\\allowbreak ", "")


def _display(tex: str) -> list[str]:
    return ["$$", _web(tex), "$$", ""]


def _weights_table(record) -> list[str]:
    if not record.weights:
        return ["No weights.", ""]
    rows = ["| weight | shape | counted as |", "|---|---|---|"]
    for w in record.weights:
        kind = ("buffer: shown, not a parameter" if w.buffer else "tied" if w.tied_to
                else "trainable" if w.trainable else "non-trainable parameter")
        rows.append(f"| `{w.name}` | ${_shape(w.shape)}$ | {kind} |")
    return rows + [""]


def _worked(built: Built) -> list[str]:
    """The derivations again with numbers: rule = values = result."""
    values = dict(VALUES)
    values.update(built.example.values or {})
    free = {s.name for s in built.count.free_dims}
    if not free or not free <= set(values):
        return []
    try:
        record = built.count.subs({k: v for k, v in values.items() if k in free}).layers[-1]
        derived = derive(record)
    except SymcountError:
        return []
    if not derived:
        return []
    given = ", ".join(f"${printing.latex_name(k)} = {values[k]}$" for k in sorted(free))
    out = [f"With {given}:", ""]
    return out + _display(_lines(derived))


def _lines(derivations) -> str:
    """Derivations one under the other, aligned at their first ``=``."""
    if len(derivations) == 1:
        return derivations[0].latex
    rows = [d.latex.replace(" = ", " &= ", 1) for d in derivations]
    return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"


def entry(front: str, name: str, pair: tuple[str, str] | None) -> list[str]:
    spec = FRONT_ENDS[front]
    built = build(front, name)
    lines = [f"### {name}", ""]
    text = summary(built.cls)
    if text:
        lines += [text, ""]
    if built.record is None and built.count is None:  # an input: no layer to count
        lines += [f"Example: `{built.example.code}`. An input has no weights and no cost; its shape "
                  "(with the batch axis added) starts every count.", ""]
        return lines + _counterpart(front, name, pair)
    lines += [f"Example: `{built.example.code}` on input `{built.example.inputs}` (batch axis left out).", ""]
    if built.record is None:  # a composition: several records
        lines += _composite(built)
        return lines + _counterpart(front, name, pair)
    record = built.record
    derived = derive(record)
    if record.weights:
        lines += ["**Weights**", ""] + _weights_table(record)
        params = [d for d in derived if d.quantity == "params"]
        lines += ["**Parameters**", ""]
        lines += _display(params[0].latex) if params else _display(f"P = {_tex(record.params)}")
    else:
        lines += ["**Weights:** none.", ""]
    lines += ["**Output shape**", ""]
    lines += _display(_shape(record.output_shape))
    outputs = [d for d in derived if d.quantity.startswith("output")]
    if outputs:
        lines += _display(_lines(outputs))
    macs = [d for d in derived if d.quantity == "macs"]
    if macs:
        lines += ["**Multiply-accumulates** (per example)", ""] + _display(_lines(macs))
    else:
        lines += ["**Multiply-accumulates:** none declared (symcount counts the products of weights and "
                  "attention's products; see [Costs](../costs.md)).", ""]
    conditions = built.count.conditions
    if conditions:
        lines += ["**Valid for** " + ", ".join(f"${printing.condition(c.relation)}$" for c in conditions), ""]
    if getattr(type(record.layer), "notation", None) is not None:
        lines += _worked(built)
    return lines + _counterpart(front, name, pair)


def _composite(built: Built) -> list[str]:
    c = built.count
    rows = ["| layer | output shape | parameters | MACs |", "|---|---|---|---|"]
    for r in c.layers:
        if isinstance(r.layer, InputLayer):
            continue
        times = "" if r.repeat == 1 else f" (× ${_tex(r.repeat)}$)"
        rows.append(f"| `{r.name}` ({r.type}){times} | ${_shape(r.output_shape)}$ | ${_tex(r.params)}$ | "
                    f"${_tex(r.macs)}$ |")
    lines = rows + ["", "Total:", ""] + _display(f"P = {_tex(c.total)}")
    lines += _display(f"\\mathrm{{MACs}} = {_tex(c.macs)}")
    if c.conditions:
        lines += ["**Valid for** " + ", ".join(f"${printing.condition(x.relation)}$" for x in c.conditions), ""]
    return lines


def _counterpart(front: str, name: str, pair) -> list[str]:
    if pair is None:
        return []
    other, other_name = pair
    label = "PyTorch" if other == "torch" else "Keras"
    link = f"[`{other_name}`]({other}.md#{other_name.lower()})"
    ours, theirs = build(front, name), build(other, other_name)
    if ours.count is None or theirs.count is None:
        return [f"**In {label}:** {link}.", ""]
    mine, yours = ours.count.total, theirs.count.total
    difference = sympy.expand(yours - mine)
    this = "PyTorch" if front == "torch" else "Keras"
    if difference == 0:
        verdict = "the same parameter count on the same sizes"
    else:
        verdict = f"on the same sizes, $P_{{\\text{{{label}}}}} - P_{{\\text{{{this}}}}} = {_tex(difference)}$"
        torch_count = theirs.count if label == "PyTorch" else ours.count
        if sympy.expand(torch_count.buffers) != 0:
            verdict += (f"; PyTorch keeps ${_tex(torch_count.buffers)}$ elements as buffers, outside "
                        "`parameters()`")
        for symbol, value in WHEN.get(name, WHEN.get(other_name, {})).items():
            names = _namespace(FRONT_ENDS[front]["module"])
            at = eval(value, {"__builtins__": {}}, names)  # noqa: S307 - this file's own condition
            if sympy.simplify(difference.subs(names[symbol], at)) == 0:
                verdict += f", which is 0 when ${printing.latex(names[symbol])} = {_tex(at)}$"
    return [f"**In {label}:** {link}: {verdict}. See [Keras and PyTorch](../frameworks.md).", ""]


def page(front: str) -> str:
    spec = FRONT_ENDS[front]
    module, examples = spec["module"], spec["examples"]
    classes = layer_classes(module)
    names = sorted(set(classes) | ({"Input"} if front == "torch" else set()), key=str.lower)
    missing = [n for n in names if n not in examples]
    if missing:
        raise SystemExit(f"gen_reference: no example for {front} {', '.join(missing)}: add one to "
                         f"{'KERAS' if front == 'keras' else 'TORCH'}")
    pairs = PAIRS if front == "keras" else {v: k for k, v in PAIRS.items()}
    other = spec["other"]
    lines = [
        "<!-- Generated by docs/gen_reference.py from symcount's code: do not edit by hand. -->",
        "",
        f"# {spec['title']}",
        "",
        f"Every layer class that `symcount.{front}` exports, with {spec['framework']}'s names, arguments and "
        f"counting rules ({spec['layout']}). Each entry is computed by symcount from a symbolic example "
        "of the layer: its declared weights, the derivations of its parameter count, output sizes and "
        "multiply-accumulates (rule in the layer's notation, as `symcount.derivation.derive` gives it), "
        "the validity conditions, and, where the layer has a notation, the same derivation with numbers.",
        "",
        f"Where the other framework has a counterpart, its count on the same sizes is compared "
        f"([{'PyTorch' if other == 'torch' else 'Keras'} layers]({other}.md)); "
        "[Keras and PyTorch](../frameworks.md) explains the differences.",
        "",
        "Composition: `Sequential`, `Model` (functional graphs), `Input`, `Block` and `Repeat` "
        "(a block repeated a symbolic number of times).",
        "",
    ]
    for name in names:
        pair = (other, pairs[name]) if name in pairs else None
        lines += entry(front, name, pair)
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is not up to date")
    args = parser.parse_args(argv)
    stale = []
    for front in FRONT_ENDS:
        path = OUT / f"{front}.md"
        text = page(front)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("not up to date (run python docs/gen_reference.py): " + ", ".join(str(p) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
