"""The length rules added to dims.py for torch, on exhaustive small grids against torch."""

import itertools
import warnings

import sympy
import torch

import symcount as sc
from symcount.dims import ceil_pool_length, conv_length, transposed_conv_length

from .harness import oracle


def _length(module, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return module(torch.zeros(1, 1, n)).shape[-1]
        except RuntimeError:
            return None


@oracle
def test_ceil_pool_length_drops_the_window_starting_in_the_right_padding_like_torch():
    n_sym = sc.dim("n")
    dropped = 0
    for k, s, d in itertools.product(range(1, 5), range(1, 5), range(1, 3)):
        for p in range(0, k // 2 + 1):
            formula = ceil_pool_length(n_sym, k, s, d, p)
            pool = torch.nn.MaxPool1d(k, s, padding=p, dilation=d, ceil_mode=True)
            for n in range(1, 11):
                theirs = _length(pool, n)
                ours = int(formula.subs(n_sym, n))
                assert (ours if ours >= 1 else None) == theirs, (n, k, s, d, p)
                plain_ceil = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
                dropped += theirs is not None and theirs < plain_ceil
    assert dropped > 0  # the grid does exercise torch's "starts in the right padding" rule


@oracle
def test_floor_pool_length_is_conv_length_like_torch():
    for k, s, d, n in itertools.product(range(1, 5), range(1, 4), range(1, 3), range(1, 10)):
        for p in range(0, k // 2 + 1):
            ours = int(conv_length(n, k, s, d, 2 * p))
            assert (ours if ours >= 1 else None) == _length(torch.nn.MaxPool1d(k, s, p, d), n)


@oracle
def test_transposed_conv_length_like_torch():
    n_sym = sc.dim("n")
    for k, s, d, p in itertools.product(range(1, 4), range(1, 4), range(1, 3), range(0, 3)):
        for op in range(0, max(s, d)):
            module = torch.nn.ConvTranspose1d(1, 1, k, s, p, op, dilation=d)
            formula = transposed_conv_length(n_sym, k, s, d, 2 * p, op)
            for n in range(1, 6):
                ours = int(formula.subs(n_sym, n))
                assert (ours if ours >= 1 else None) == _length(module, n), (n, k, s, d, p, op)


def test_ceil_pool_length_with_numeric_arguments_is_one_floor():
    # kernel 3, stride 2, padding 1: ceil((n - 1)/2) + 1, and the last window start
    # 2·ceil((n - 1)/2) <= n < n + 1 never lies in the right padding: floor(n/2) + 1
    x = sc.dim("x")
    assert ceil_pool_length(x, 3, 2, 1, 1) == sympy.floor(x / 2) + 1
