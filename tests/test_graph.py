"""Graphs: functional models, residuals, branches, shared layers, ties, blocks and
symbolic repetition. Numbers come from Keras itself (oracle) or from hand derivations."""

import pytest

import symcount as sc
from symcount.errors import ArgumentError, ShapeError, SubstitutionError
from symcount.keras import (Add, BatchNormalization, Block, Concatenate, Conv2D, Dense, Flatten, Input,
                            MaxPooling2D, Model, Repeat, Sequential)


def residual_net(keras_like, size, channels, classes):
    """A small residual network written once, for symcount and for Keras alike."""
    L = keras_like
    x = inputs = L.Input((size, size, channels))
    for _ in range(2):
        y = L.Conv2D(channels, 3, padding="same", use_bias=False)(x)
        y = L.BatchNormalization()(y)
        x = L.Add()([x, y])
    x = L.MaxPooling2D(2)(x)
    x = L.Flatten()(x)
    return L.Model(inputs, L.Dense(classes)(x))


def inception_net(keras_like, size):
    L = keras_like
    inputs = L.Input((size, size, 3))
    a = L.Conv2D(8, 1)(inputs)
    b = L.Conv2D(12, 3, padding="same")(L.Conv2D(4, 1)(inputs))
    c = L.Conv2D(6, 5, padding="same")(inputs)
    d = L.Conv2D(5, 1)(L.MaxPooling2D(3, strides=1, padding="same")(inputs))
    x = L.Flatten()(L.Concatenate()([a, b, c, d]))
    return L.Model(inputs, L.Dense(10)(x))


def shared_net(keras_like):
    L = keras_like
    left, right = L.Input((6,)), L.Input((6,))
    shared = L.Dense(4)
    merged = L.Concatenate()([shared(left), shared(right)])
    return L.Model([left, right], L.Dense(1)(merged))


class SymcountKeras:
    """The symcount.keras vocabulary under the names the builders use."""
    from symcount.keras import (Add, BatchNormalization, Concatenate, Conv2D, Dense, Flatten, Input,  # noqa
                                MaxPooling2D, Model)


def keras_layers():
    import keras

    class K:
        Input = staticmethod(keras.Input)
        Model = keras.Model
    for name in ("Add", "BatchNormalization", "Concatenate", "Conv2D", "Dense", "Flatten", "MaxPooling2D"):
        setattr(K, name, getattr(keras.layers, name))
    return K


def keras_totals(model):
    import numpy as np

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def symcount_totals(count):
    return int(count.total), int(count.trainable), int(count.non_trainable)


@pytest.mark.oracle
@pytest.mark.parametrize("build", [
    lambda L: residual_net(L, 16, 8, 5),
    lambda L: inception_net(L, 12),
    shared_net,
], ids=["residual", "inception", "shared"])
def test_graph_totals_equal_keras(build):
    ours = build(SymcountKeras).count()
    theirs = build(keras_layers())
    assert symcount_totals(ours) == keras_totals(theirs)
    assert tuple(ours.output_shape) == tuple(theirs.outputs[0].shape)
    # Keras's names depend on its session counters: compare each layer by type and count
    assert sorted((r.type, int(r.params)) for r in ours.layers if r.counted) == sorted(
        (type(layer).__name__, layer.count_params()) for layer in theirs.layers)


@pytest.mark.oracle
def test_symbolic_residual_net_substituted_equals_keras_at_several_sizes():
    S, C, K = sc.dims("S C K")
    count = residual_net(SymcountKeras, S, C, K).count()
    for size, channels, classes in [(8, 3, 2), (10, 4, 7), (32, 16, 10)]:
        theirs = residual_net(keras_layers(), size, channels, classes)
        assert symcount_totals(count.subs(S=size, C=channels, K=classes)) == keras_totals(theirs)


def test_residual_block_closed_form_by_hand():
    S, C, K = sc.dims("S C K")
    total = residual_net(SymcountKeras, S, C, K).count().total
    # two blocks of (3·3·C·C conv, no bias; BN 4C), then pooling and Dense(K) on ⌊S/2⌋²·C inputs
    hand = 2 * (9 * C * C + 4 * C) + (sympy_floor(S / 2) ** 2 * C) * K + K
    assert (total - hand).expand() == 0


def sympy_floor(x):
    import sympy

    return sympy.floor(x)


def test_merge_of_mismatched_shapes_names_layer_and_shapes():
    x = Input((8, 8, 3))
    with pytest.raises(ShapeError, match=r"add \(Add\): Inputs have incompatible shapes. "
                                         r"Received shapes \(None, 8, 8, 3\), \(None, 8, 8, 4\)"):
        Add()([x, Conv2D(4, 1)(x)])


def test_symbolic_merge_records_equality_condition():
    H, W = sc.dims("H W")
    x = Input((H, W, 4))
    with pytest.raises(ShapeError, match="incompatible shapes"):
        Add()([x, Conv2D(4, 3)(x)])  # W versus W - 2: provably different
    with pytest.raises(ShapeError, match="matching shapes"):
        Concatenate()([x, MaxPooling2D(2)(x)])  # W versus floor(W/2): different for every W >= 1
    y = Input((H, 3, 2))
    count = Model([x, y], Concatenate()([x, y])).count()
    assert [str(c) for c in count.conditions] == ["W == 3"]
    assert count.subs(H=5, W=3).output_shape == (None, 5, 3, 6)
    with pytest.raises(SubstitutionError, match=r"concatenate \(Concatenate\): the closed form needs W == 3"):
        count.subs(H=5, W=4)


def test_outputs_from_an_unlisted_input_are_refused():
    a, b = Input((3,)), Input((3,))
    with pytest.raises(ArgumentError, match="input that is not in the model's inputs"):
        Model(a, Add()([a, b]))


def test_repeat_with_symbolic_n_equals_the_unrolled_model():
    n = sc.dim("n")
    block = Block("res", lambda t: Add()([t, Conv2D(4, 3, padding="same")(t)]))
    symbolic = Sequential([Input((8, 8, 4)), Repeat(block, n), Flatten(), Dense(3)]).count()
    assert symbolic.total == n * (3 * 3 * 4 * 4 + 4) + 8 * 8 * 4 * 3 + 3
    for k in (1, 2, 5):
        unrolled = Sequential([Input((8, 8, 4)), Repeat(block, k, unroll=True), Flatten(), Dense(3)]).count()
        assert int(symbolic.subs(n=k).total) == int(unrolled.total)
        assert len([r for r in unrolled.layers if r.type == "Conv2D"]) == k


def test_repeat_of_a_list_block_unrolls_to_distinct_weights():
    model = Sequential([Input((4,)), Repeat(Block("mlp", [Dense(4), Dense(4)]), 3, unroll=True)])
    count = model.count()
    assert int(count.total) == 3 * 2 * (4 * 4 + 4)
    assert all(r.counted for r in count.layers)


def test_repeat_refuses_a_block_that_changes_shape():
    n = sc.dim("n")
    with pytest.raises(ShapeError, match=r"Repeat\(b, n\): the block must keep its input shape"):
        Sequential([Input((8, 8, 3)), Repeat(Block("b", [Conv2D(8, 3)]), n)]).count()


def test_repeat_records_shape_condition_when_undecided():
    n, C = sc.dims("n C")
    count = Sequential([Input((8, 8, C)), Repeat(Block("b", [Conv2D(8, 3, padding="same")]), n)]).count()
    assert [str(c) for c in count.conditions] == ["C == 8"]
    assert int(count.subs(C=8, n=2).total) == 2 * (9 * 8 * 8 + 8)
    with pytest.raises(SubstitutionError, match="C == 8"):
        count.subs(C=3, n=2)


def test_tied_weight_counts_once_like_torch_parameters():
    # torch: lm_head.weight = wte.weight; parameters() yields the tensor once
    embed, head = Dense(16, use_bias=False), Dense(16, use_bias=False)
    model = Sequential([Input((16,)), embed, head])
    model.tie(head, "kernel", embed, "kernel")
    assert int(model.count().total) == 16 * 16
    bad = Sequential([Input((16,)), embed, Dense(8, use_bias=False)])
    bad.tie(bad.layers[2], "kernel", embed, "kernel")
    with pytest.raises(ShapeError, match="tied weights must have the same shape"):
        bad.count()


def test_block_totals_add_up_and_count_repetitions():
    n = sc.dim("n")
    model = Sequential([
        Input((4,)),
        Block("stem", [Dense(8)]),
        Repeat(Block("body", [Dense(8), Dense(8)]), n),
        Dense(2),
    ])
    count = model.count()
    blocks = count.blocks()
    assert blocks[("stem",)]["params"] == 4 * 8 + 8
    assert blocks[("body",)]["params"] == n * 2 * (8 * 8 + 8)
    assert blocks[()]["params"] == 8 * 2 + 2
    assert sum((b["params"] for b in blocks.values()), 0) == count.total


# -- the same graphs in torch semantics, against torch's own modules ------------------------


def torch_graphs():
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, c, classes):
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(2))
            self.norms = nn.ModuleList(nn.BatchNorm2d(c) for _ in range(2))
            self.pool, self.head = nn.MaxPool2d(2), nn.LazyLinear(classes)

        def forward(self, x):
            for conv, norm in zip(self.convs, self.norms):
                x = x + norm(conv(x))
            return self.head(torch.flatten(self.pool(x), 1))

    class Inception(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 1)
            self.b = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 12, 3, padding=1))
            self.c = nn.Conv2d(3, 6, 5, padding=2)
            self.d = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(3, 5, 1))
            self.head = nn.LazyLinear(10)

        def forward(self, x):
            y = torch.cat([self.a(x), self.b(x), self.c(x), self.d(x)], dim=1)
            return self.head(torch.flatten(y, 1))

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.shared, self.head = nn.Linear(6, 4), nn.Linear(8, 1)

        def forward(self, left, right):
            return self.head(torch.cat([self.shared(left), self.shared(right)], dim=1))

    return Residual, Inception, Shared


def torch_count(module, *inputs):
    import torch

    with torch.no_grad():
        out = module(*inputs)  # materializes the lazy head
    return sum(p.numel() for p in module.parameters()), tuple(out.shape[1:])


def symcount_torch_residual(size, c, classes):
    import symcount.torch as T

    x = inputs = sc.Input((c, size, size))
    for _ in range(2):
        # merges have the same rule in both frameworks: symcount.keras's Add serves torch graphs too
        x = Add()([x, T.BatchNorm2d(c)(T.Conv2d(c, c, 3, padding=1, bias=False)(x))])
    x = T.Flatten()(T.MaxPool2d(2)(x))
    return Model(inputs, T.Linear(c * (size // 2) ** 2, classes)(x))


def symcount_torch_inception(size):
    import symcount.torch as T

    x = sc.Input((3, size, size))
    a = T.Conv2d(3, 8, 1)(x)
    b = T.Conv2d(4, 12, 3, padding=1)(T.Conv2d(3, 4, 1)(x))
    c = T.Conv2d(3, 6, 5, padding=2)(x)
    d = T.Conv2d(3, 5, 1)(T.MaxPool2d(3, stride=1, padding=1)(x))
    y = T.Flatten()(Concatenate(axis=1)([a, b, c, d]))
    return Model(x, T.Linear(31 * size * size, 10)(y))


def symcount_torch_shared():
    import symcount.torch as T

    left, right = sc.Input((6,)), sc.Input((6,))
    shared = T.Linear(6, 4)
    return Model([left, right], T.Linear(8, 1)(Concatenate(axis=1)([shared(left), shared(right)])))


@pytest.mark.oracle
def test_graph_totals_equal_torch_parameters():
    import torch

    Residual, Inception, Shared = torch_graphs()
    cases = [
        (symcount_torch_residual(16, 8, 5), Residual(8, 5), (torch.zeros(1, 8, 16, 16),)),
        (symcount_torch_inception(12), Inception(), (torch.zeros(1, 3, 12, 12),)),
        (symcount_torch_shared(), Shared(), (torch.zeros(1, 6), torch.zeros(1, 6))),
    ]
    for ours, module, inputs in cases:
        total, out_shape = torch_count(module, *inputs)
        count = ours.count()
        assert int(count.total) == total
        assert tuple(count.output_shape[1:]) == out_shape
        # BatchNorm's running statistics are buffers in torch, not parameters
        assert int(count.buffers) == sum(b.numel() for b in module.buffers())
