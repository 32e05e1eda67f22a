"""Embedding, Dropout*, Flatten, Unflatten, Identity and the activations against torch."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, check, oracle
from .strategies import SETTINGS, rarely

ELEMENTWISE = {
    "ReLU": {}, "ReLU6": {}, "LeakyReLU": {"negative_slope": 0.2}, "ELU": {"alpha": 0.5}, "CELU": {},
    "SELU": {}, "SiLU": {}, "Mish": {}, "Sigmoid": {}, "Tanh": {}, "Softsign": {}, "Tanhshrink": {},
    "LogSigmoid": {}, "Hardsigmoid": {}, "Hardswish": {}, "Softplus": {"beta": 2.0}, "Hardshrink": {},
    "Threshold": {"threshold": 0.1, "value": 2.0}, "Hardtanh": {"min_val": -2.0, "max_val": 3.0},
    "Softshrink": {"lambd": 0.3}, "GELU": {"approximate": "tanh"}, "Identity": {},
    "Dropout": {"p": 0.3}, "AlphaDropout": {"p": 0.2},
}


@hs.composite
def embedding_cases(draw):
    num, dim = draw(hs.integers(1, 10)), draw(hs.integers(1, 6))
    kwargs = dict(num_embeddings=num, embedding_dim=dim)
    if rarely(draw, 40):
        kwargs["padding_idx"] = draw(hs.integers(-12, 12))
    if rarely(draw, 20):
        kwargs["_freeze"] = True
    shape = tuple(draw(hs.lists(hs.integers(1, 4), min_size=1, max_size=3)))
    return Case("Embedding", kwargs, (shape,), integer_input=True, sizes=("num_embeddings", "embedding_dim"))


@hs.composite
def elementwise_cases(draw):
    name = draw(hs.sampled_from(sorted(ELEMENTWISE)))
    shape = tuple(draw(hs.lists(hs.integers(1, 4), min_size=1, max_size=3)))
    return Case(name, ELEMENTWISE[name], (shape,))


@hs.composite
def shape_cases(draw):
    kind = draw(hs.sampled_from(["Flatten", "Unflatten", "Softmax", "LogSoftmax", "Softmin", "GLU", "PReLU",
                                 "Dropout1d", "Dropout2d", "Dropout3d", "Softmax2d"]))
    if kind.startswith("Dropout") and kind != "Dropout":
        rank = int(kind[-2])
        return Case(kind, {"p": 0.5}, (tuple(draw(hs.integers(1, 3)) for _ in range(rank + 1)),))
    if kind == "Softmax2d":
        return Case(kind, {}, (tuple(draw(hs.integers(1, 3)) for _ in range(3)),))
    shape = tuple(draw(hs.lists(hs.integers(1, 6), min_size=1, max_size=3)))
    rank = len(shape) + 1  # with the batch axis
    # axes other than the batch axis (flattening or splitting it is not a shape rule)
    axis = hs.one_of(hs.integers(1, rank - 1), hs.integers(-(rank - 1), -1))
    if kind == "Flatten":
        kwargs = dict(start_dim=draw(axis), end_dim=draw(axis))
    elif kind == "Unflatten":
        dim = draw(axis)
        n = shape[dim - 1 if dim > 0 else dim]
        factors = [f for f in range(1, n + 1) if n % f == 0]
        first = draw(hs.sampled_from(factors))
        sizes = [first, n // first]
        if rarely(draw, 20):
            sizes[1] += 1
        if rarely(draw, 30):
            sizes[draw(hs.integers(0, 1))] = -1
        kwargs = dict(dim=dim, unflattened_size=tuple(sizes))
    elif kind == "PReLU":
        kwargs = dict(num_parameters=draw(hs.sampled_from([1, shape[0], shape[0] + 1])))
        return Case(kind, kwargs, (shape,), sizes=("num_parameters",))
    elif kind == "GLU":
        kwargs = dict(dim=draw(axis))
    else:
        kwargs = dict(dim=draw(hs.integers(-rank - 1, rank)))  # sometimes out of range
    return Case(kind, kwargs, (shape,))


@oracle
@settings(SETTINGS, max_examples=100)
@given(embedding_cases())
def test_embedding_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=60)
@given(elementwise_cases())
def test_elementwise_layers_keep_the_shape_like_torch(case):
    check(case, symbolic=False)


@oracle
@settings(SETTINGS, max_examples=200)
@given(shape_cases())
def test_shape_changing_core_layers_match_torch(case):
    check(case)
