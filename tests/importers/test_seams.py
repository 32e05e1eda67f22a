"""The importer's three seams, each through its public interface (issue 21):

- the recorder (:mod:`symcount.importers.recorder`): a forward pass → records of the
  products that ran, the parameters, the backward's flags, what could not be counted;
- the attributor (:mod:`symcount.importers.attributor`): records → a template of slots, and
  each slot's values across probes → an expression in the dims;
- the builder (:mod:`symcount.importers.builder`): a template with expressions → a
  symcount model.

The numbers are derived by hand here, not by running the rest of the importer.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

torch = pytest.importorskip("torch")
nn = torch.nn

from symcount.importers.attributor import Probe, fit, fit_slot, template  # noqa: E402
from symcount.importers.builder import Builder, called_paths  # noqa: E402
from symcount.importers.recorder import record  # noqa: E402

H, n = sympy.symbols("H n", integer=True, positive=True)


class Stack(nn.Module):
    """Three identical Linear layers in a ModuleList, then ``x @ v`` with a vector (``mv``)."""

    def __init__(self, width=6, depth=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.v = nn.Parameter(torch.ones(width))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x @ self.v


class Doubler(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad  # elementwise: no FLOPs


class Projector(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(w)
        return x @ w

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        return grad @ w.t(), None  # a product in a backward symcount does not see


# -- recorder -------------------------------------------------------------------------


def test_recorder_records_products_parameters_and_what_it_cannot_count():
    module = Stack()
    rec = record(module, (torch.randn(1, 5, 6),))
    calls = [c for c in rec.root.children if hasattr(c, "children")]
    assert [c.path for c in calls] == ["layers.0", "layers.1", "layers.2"]
    op = calls[0].children[0]
    assert op.op == "addmm" and op.shapes == ((5, 6), (6, 6))
    # the first layer's input is the data: no input gradient; its weight needs one
    assert op.grads == (False, True)
    assert calls[1].children[0].grads == (True, True)
    assert rec.params["layers.0"] == [("weight", (6, 6), True), ("bias", (6,), True)]
    assert [(u.op, u.calls) for u in rec.uncounted] == [("mv", 1)]


def test_recorder_runs_a_custom_backward_and_names_a_product_in_it():
    linear = nn.Linear(4, 4)
    w = nn.Parameter(torch.randn(4, 3))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.w = linear, w

        def forward(self, x):
            return Projector.apply(Doubler.apply(self.linear(x)), self.w)

    rec = record(Model(), (torch.randn(2, 4),))
    names = sorted(u.op for u in rec.uncounted)
    # Doubler's backward is elementwise: nothing to name; Projector's runs a product
    assert names == ["Projector.backward: mm"]


# -- attributor -----------------------------------------------------------------------


def test_template_folds_a_list_of_identical_layers_into_one_run():
    t = template(record(Stack(width=6, depth=4), (torch.randn(1, 5, 6),)))
    (first, one, _), (rest, run, shared) = t.root.items[:2]
    # the first layer is fed by the data (no input gradient): it is not like the others
    assert (first.path, t.values[one]) == ("layers.0", 1)
    assert (rest.path, t.values[run], shared) == ("layers.1", 3, False)
    # the representative's parameters only; the folded members are counted through it
    assert {"layers.0", "layers.1"} <= set(t.params) and "layers.2" not in t.params


def _probes(base, changes):
    probes = [Probe(dict(base))]
    single = {}
    for d, f in changes:
        values = dict(base)
        values[d] = int(base[d] * f)
        probes.append(Probe(values, ((d, f),)))
        single.setdefault(d, []).append((len(probes) - 1, f))
    return probes, single


def test_a_monomial_is_placed_by_its_ratios_not_by_equal_values():
    # H = n = 8 at the base: equal values, different roles (the size is 3·H²/n)
    base = {"H": 8, "n": 8}
    probes, single = _probes(base, [("H", Fraction(2)), ("n", Fraction(2))])
    values = [3 * p.values["H"] ** 2 // p.values["n"] for p in probes]
    assert fit_slot(values, probes, 0, single, ["H", "n"]) == 3 * H ** 2 / n


def test_a_floor_along_one_axis_from_four_points():
    base = {"H": 16}
    probes, single = _probes(base, [("H", Fraction(2)), ("H", Fraction(17, 16)), ("H", Fraction(19, 16))])
    values = [(p.values["H"] - 3) // 2 + 1 for p in probes]  # a 3-wide stride-2 window
    expr = fit_slot(values, probes, 0, single, ["H"])
    assert [int(expr.subs(H, h)) for h in (16, 23, 40)] == [(h - 3) // 2 + 1 for h in (16, 23, 40)]


def test_a_sum_of_powers_needs_its_points_and_says_which_dim():
    base = {"n": 4}
    probes, single = _probes(base, [("n", Fraction(2))])
    values = [2 * p.values["n"] + 1 for p in probes]
    with pytest.raises(Exception) as caught:
        fit_slot(values, probes, 0, single, ["n"])
    assert caught.value.needs == ("n",)
    probes, single = _probes(base, [("n", Fraction(2)), ("n", Fraction(1, 2)), ("n", Fraction(3))])
    values = [2 * p.values["n"] + 1 for p in probes]
    assert fit_slot(values, probes, 0, single, ["n"]) == 2 * n + 1


# -- builder ----------------------------------------------------------------------------


def test_builder_counts_a_run_of_layers_from_its_expressions():
    module = Stack(width=6, depth=3)
    rec = record(module, (torch.randn(1, 5, 6),))
    t = template(rec)
    exprs, failed = fit([t], [Probe({})], 0, {})
    assert not failed
    # give the run's multiplicity and the width their dims, as the attributor would
    width, depth = sympy.symbols("width depth", integer=True, positive=True)
    run_slot = t.root.items[1][1]  # layers.1 … : depth − 1 of them after the data-fed first
    exprs = [depth - 1 if i == run_slot else (width if v == 6 else e) for i, (v, e) in enumerate(zip(t.values, exprs))]
    model = Builder(t, exprs, "stack", called_paths(rec)).build()
    count = model.count()
    # depth Linear(width, width) and the vector v (width)
    assert sympy.expand(count.total - (depth * (width ** 2 + width) + width)) == 0
    at = count.subs(width=6, depth=3)
    assert int(at.total) == sum(p.numel() for p in module.parameters())
    assert int(at.macs) == 3 * 5 * 6 * 6  # the addmm products (mv is uncounted, not zero)
