"""MACs, FLOPs (forward and forward + backward), activations and memory against
torch.utils.flop_counter.FlopCounterMode run on real Keras (torch backend) models,
and against hand derivations."""

from __future__ import annotations

import pytest
import sympy

import symcount as sc
from symcount.errors import ArgumentError
from symcount.keras import Add, Block, Dense, Dropout, Input, Model, Repeat, Sequential
from symcount.spec import load

from .keras.keras_builders import keras_sequential

BATCH = 2


def counted_flops(model, x, backward: bool) -> int:
    """FlopCounterMode's total for one forward pass (and ``loss.backward()``), per example."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        y = model(x, training=True)
        if backward:
            y.sum().backward()
    total = counter.get_total_flops()
    assert total % BATCH == 0
    return total // BATCH


def keras_input(shape):
    import torch

    return torch.randn(BATCH, *shape)


@pytest.mark.oracle
@pytest.mark.parametrize("h, w", [(64, 68), (100, 100)])
def test_seed_cnn_flops_equal_flop_counter_forward_and_backward(examples, h, w):
    spec = load(examples / "seed_cnn.yaml")
    count = spec.model.count().subs(H=h, W=w, classes=9)
    keras_model = keras_sequential(spec.model, {"H": h, "W": w, "classes": 9})
    x = keras_input((h, w, 3))
    assert counted_flops(keras_model, x, backward=False) == count.flops == 2 * count.macs
    # the first convolution's input is the image: autograd computes its weight gradient only
    assert counted_flops(keras_model, x, backward=True) == count.training_flops


def shared_residual(values=None):
    """A functional model with a shared Dense called twice, a residual Add and a Repeat."""
    import keras

    L = sc.dim("L")
    length = (values or {}).get("L", L)
    x = Input((length, 8))
    shared = Dense(8, name="shared")
    a = shared(x)                              # fed by the model input: no input gradient
    b = shared(Dense(8, name="pre")(x))        # the same weights, an input that needs one
    y = Add()([a, b])
    y = Dense(4, name="head")(y)
    ours = Model(x, y)

    kx = keras.Input((values["L"], 8)) if values else None
    if kx is None:
        return ours, None
    k_shared = keras.layers.Dense(8)
    ka = k_shared(kx)
    kb = k_shared(keras.layers.Dense(8)(kx))
    ky = keras.layers.Dense(4)(keras.layers.Add()([ka, kb]))
    return ours, keras.Model(kx, ky)


@pytest.mark.oracle
@pytest.mark.parametrize("length", [3, 7])
def test_shared_layer_counts_weights_once_and_cost_per_call(length):
    ours, theirs = shared_residual({"L": length})
    count = ours.count()
    assert count.total == theirs.count_params()
    x = keras_input((length, 8))
    assert counted_flops(theirs, x, backward=False) == count.flops
    assert counted_flops(theirs, x, backward=True) == count.training_flops
    calls = [r for r in count.layers if r.name == "shared"]
    assert [r.counted for r in calls] == [True, False]
    assert [r.input_grad for r in calls] == [False, True]


def repeated_dense(n):
    block = Block("mlp", [Dense(6), Dropout(0.1), Dense(6)])
    return Sequential([Input((6,)), Repeat(block, n)])


@pytest.mark.oracle
@pytest.mark.parametrize("depth", [1, 3])
def test_repeat_fed_by_the_input_counts_the_first_occurrence_without_input_gradient(depth):
    import keras

    n = sc.dim("n")
    count = repeated_dense(n).count().subs(n=depth)
    theirs = keras.Sequential([keras.Input((6,))] + [keras.layers.Dense(6) for _ in range(2 * depth)])
    x = keras_input((6,))
    assert count.total == theirs.count_params()
    assert counted_flops(theirs, x, backward=False) == count.flops
    assert counted_flops(theirs, x, backward=True) == count.training_flops
    # the symbolic form: 2·(2·36 n) forward; backward 2·36·(4n − 1): the first Dense skips its input gradient
    symbolic = repeated_dense(n).count()
    assert sympy.expand(symbolic.training_flops - (2 * 72 * n + 2 * 36 * (4 * n - 1))) == 0


def test_costs_by_hand_for_a_dense_layer():
    n_in, units, L = sc.dims("n_in units L")
    count = Sequential([Input((L, n_in)), Dense(units)]).count()
    assert count.macs == L * n_in * units
    assert count.flops == 2 * L * n_in * units
    # the input is the model's: backward computes the kernel's gradient only
    assert sympy.expand(count.training_flops - 4 * L * n_in * units) == 0
    assert count.cost(batch_size=sc.dim("batch")) == 2 * L * n_in * units * sc.dim("batch")
    # activations: bytes autograd saves per example (float32): Dense keeps its input for the
    # kernel's gradient (matmul), L·n_in elements of 4 bytes; the bias add keeps nothing
    assert count.activations == 4 * L * n_in
    from .keras.saved_truth import per_example_and_batch
    import keras

    per_example, per_batch = per_example_and_batch(lambda: keras.layers.Dense(5), lambda b: (b, 3, 7))
    assert (per_example, per_batch) == (count.activations.subs({L: 3, n_in: 7, units: 5}), 0)


def test_memory_by_hand():
    """Dense(3) on 4 inputs: (4+1)·3 = 15; BatchNormalization(3): γ, β trainable, the moving
    mean and variance not: 12. Trainable 15 + 6 = 21.

    Optimizer: Adam's two moments, 2·21·4 = 168 bytes, and torch.optim's fp32 ``step``
    scalar per parameter tensor (kernel, bias, γ, β): 16.

    Activations, in float32: Dense keeps its input (4 elements per example); Keras's
    BatchNormalization on the torch backend keeps its input (3, Dense's output) and the
    centred input (3): (4 + 3 + 3)·4 = 40 bytes per example, 320 for a batch of 8; and
    three per-channel statistics once per batch, 3·3·4 = 36 bytes whatever the batch:
    356 in all (checked below against Keras at batches of 2 and 3)."""
    from symcount.keras import BatchNormalization

    count = Sequential([Input((4,)), Dense(3), BatchNormalization()]).count()
    assert (count.total, count.trainable) == (27, 21)
    memory = count.memory(dtype="float32", optimizer="adam", batch_size=8)
    assert memory.weights == 27 * 4
    assert memory.gradients == 21 * 4
    assert memory.optimizer == 2 * 21 * 4 + 4 * 4
    assert memory.activations == 8 * (4 + 3 + 3) * 4 + 3 * 3 * 4
    assert memory.total == 27 * 4 + 21 * 4 + 184 + 356
    from .keras.saved_truth import per_example_and_batch

    theirs = per_example_and_batch(lambda: keras_sequential(Sequential([Dense(3), BatchNormalization()])),
                                   lambda b: (b, 4))
    assert theirs == ((4 + 3 + 3) * 4, 3 * 3 * 4)
    inference = count.memory(dtype="bfloat16", training=False)
    assert (inference.gradients, inference.optimizer, inference.weights) == (0, 0, 54)
    with pytest.raises(ArgumentError, match="unknown dtype"):
        count.memory(dtype="float12")
    with pytest.raises(ArgumentError, match="unknown optimizer"):
        count.memory(optimizer="lion")


def test_memory_batch_size_may_be_a_dim():
    """Dense(3) on 4 inputs keeps its input, 4 float32 elements per example: 16·batch bytes."""
    batch = sc.dim("batch_size")
    count = Sequential([Input((4,)), Dense(3)]).count()
    assert count.memory(batch_size=batch).activations == 16 * batch
    assert count.memory(batch_size=5).activations == 80


def test_causal_attention_counts_the_unmasked_half():
    from symcount.layer import Product

    L, d = sc.dims("L d")
    p = Product(2 * L * L * d, "activation", causal_macs=L * (L + 1) * d)
    assert p.forward() == 2 * L * L * d
    assert p.forward(causal=True) == L * (L + 1) * d
    assert p.backward(True, True) == 4 * L * L * d       # both operands' gradients
    q = Product(L * d * d)
    assert q.backward(False, True) == L * d * d           # weight gradient only
    assert q.backward(True, True) == 2 * L * d * d


@pytest.mark.oracle
@pytest.mark.parametrize("shapes, axes", [(((5, 7), (3, 7)), 2), (((7,), (7,)), 1), (((5, 7), (5, 3)), 1),
                                          (((4, 6), (6, 2)), (2, 1))])
def test_dot_counts_its_batched_product(shapes, axes):
    """Keras Dot on two projections (so both inputs need gradients): forward and
    training FLOPs equal FlopCounterMode's."""
    import keras
    import torch

    from symcount.keras import Dot

    first, second = (Input(s) for s in shapes)
    ours = Model([first, second], Dot(axes)([Dense(shapes[0][-1])(first), Dense(shapes[1][-1])(second)])).count()
    a, b = (keras.Input(s) for s in shapes)
    product = keras.layers.Dot(axes)([keras.layers.Dense(shapes[0][-1])(a), keras.layers.Dense(shapes[1][-1])(b)])
    theirs = keras.Model([a, b], product)
    x = [torch.randn(BATCH, *s) for s in shapes]
    assert counted_flops(theirs, x, backward=False) == ours.flops
    assert counted_flops(theirs, x, backward=True) == ours.training_flops
