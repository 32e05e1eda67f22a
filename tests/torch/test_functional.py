"""symcount.torch.Add and Cat (``x + y``, ``torch.cat``) against torch: output shapes,
both reject or both accept, and validity conditions for sizes equal only for some dims."""

import pytest
import torch

import symcount as sc
import symcount.torch as st
from symcount.errors import ShapeError, SubstitutionError

from .harness import oracle


def ours(layer, shapes):
    """The layer on inputs of ``shapes`` (without the batch axis), through a functional model."""
    inputs = [st.Input(s) for s in shapes]
    return sc.Model(inputs, layer(inputs)).count()


def theirs(op, shapes):
    return tuple(op([torch.zeros(2, *s) for s in shapes]).shape)


CASES = [
    ("add", [(4, 5, 6), (4, 5, 6)]),
    ("add", [(4, 5, 6), (4, 1, 6), (1, 5, 1)]),
    ("add", [(4, 5, 6), (6,)]),
    ("add", [(4, 5, 6), (4, 5, 7)]),
    ("add", [(3, 5), (4, 5)]),
    ("cat", [(4, 5, 6), (3, 5, 6)]),
    ("cat", [(4, 5, 6), (4, 5, 6), (1, 5, 6)]),
    ("cat", [(4, 5, 6), (4, 6, 6)]),
    ("cat", [(4, 5, 6), (4, 5)]),
]

OPS = {"add": (st.Add, lambda xs: sum(xs[1:], xs[0])), "cat": (lambda: st.Cat(dim=1), lambda xs: torch.cat(xs, 1))}


@oracle
@pytest.mark.parametrize("kind, shapes", CASES)
def test_add_and_cat_shapes_match_torch_or_both_reject(kind, shapes):
    make, op = OPS[kind]
    try:
        expected = theirs(op, shapes)
    except RuntimeError:
        with pytest.raises(ShapeError):
            ours(make(), shapes)
        return
    assert (2, *ours(make(), shapes).output_shape[1:]) == expected


def test_cat_adds_sizes_along_dim_and_names_the_mismatch():
    H = sc.dim("H")
    assert ours(st.Cat(dim=-3), [(4, H, H), (8, H, H)]).output_shape == (None, 12, H, H)
    with pytest.raises(ShapeError, match="Sizes of tensors must match except in dimension 1"):
        ours(st.Cat(1), [(4, H, H), (4, H, H + 1)])


def test_add_of_sizes_equal_for_some_dims_is_a_validity_condition():
    """floor(H/2) (pooling) and floor((H - 1)/2) + 1 (a strided 1x1 convolution) agree
    for even H only: the sum holds under that condition, and torch rejects an odd H too."""
    H = sc.dim("H")
    x = st.Input((4, H))
    count = sc.Model([x], st.Add()([st.MaxPool1d(2)(x), st.Conv1d(4, 4, 1, stride=2)(x)])).count()
    assert count.conditions
    assert count.subs(H=8).output_shape == (None, 4, 4)
    with pytest.raises(SubstitutionError):
        count.subs(H=7)
    with pytest.raises(RuntimeError, match="must match"):
        torch.nn.MaxPool1d(2)(torch.zeros(1, 4, 7)) + torch.nn.Conv1d(4, 4, 1, stride=2)(torch.zeros(1, 4, 7))
