"""Plots of exact sweeps (matplotlib, the optional extra ``plot``).

    >>> plot_scaling(count, "n_embd", "256:8192:2x", what=["total", "flops"], given=…, path="params.png")
    >>> plot_shares(count, "n_embd", "256:8192:2x", by="type", given=…, path="shares.svg")
    >>> plot_contours(count, ("n_embd", "256:8192:2x"), ("n_layer", "4:96:4"), budgets=["1e9", "7e9"], path="c.pdf")

The numbers are computed exactly by :func:`~symcount.scaling.grid.sweep`; they are
converted to floats only to be drawn. Figures are made with matplotlib's
object-oriented API on the Agg canvas (no pyplot, no global backend), and saved by
the file's suffix: ``.png``, ``.svg`` or ``.pdf``. Points that break a validity
condition are drawn hollow (off the line) in line plots and marked ``×`` (or hatched)
in contour plots: flagged, never shown as valid.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ArgumentError, SymcountError
from .common import exact_number, name_of
from .shares import shares as _shares
from .grid import np, sweep  # NumPy, or the error that names the extra

FORMATS = (".png", ".svg", ".pdf")

_LABELS = {"total": "parameters", "params": "parameters", "trainable": "trainable parameters",
           "non_trainable": "non-trainable parameters", "macs": "MACs per example",
           "flops": "FLOPs per example (forward)", "training_flops": "FLOPs per example (forward + backward)"}


def _figure():
    """A matplotlib ``Figure`` on the Agg canvas; a clear error without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SymcountError("plotting needs matplotlib: pip install 'symcount[plot]'") from None
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def check_path(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ArgumentError(f"plot: cannot tell the format of {str(path)!r}; end the file name in "
                            f"{', '.join(FORMATS)}")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        usable = folder.is_dir() and not path.is_dir()
    except OSError as exc:  # a name too long for the file system
        raise ArgumentError(f"plot: cannot write {str(path)[:80]!r}: {exc.strerror or exc}") from None
    if not usable:  # known before the sweep is computed and printed
        raise ArgumentError(f"plot: cannot write {str(path)!r}: "
                            f"{'it is a folder' if folder.is_dir() else 'no such folder ' + repr(str(folder))}")
    return path


def _save(figure, path: Path) -> Path:
    """The figure written atomically: a failed write leaves the previous image as it was."""
    from ..files import write_atomic

    return write_atomic(path, lambda temporary: figure.savefig(temporary, format=path.suffix.lower()[1:], dpi=120))


def _dim_axis(axis, values: np.ndarray) -> None:
    """A log axis for a dim, labelled with integers: its own values when they are few,
    else powers of two (powers of ten beyond a span of 2¹⁰). No minor ticks (they cost
    matplotlib seconds of layout on log axes)."""
    from matplotlib.ticker import FixedLocator, LogLocator, NullLocator

    axis.set_minor_locator(NullLocator())
    if len(values) <= 10:
        axis.set_major_locator(FixedLocator([float(v) for v in values]))
    else:
        span = float(max(values)) / float(min(values))
        axis.set_major_locator(LogLocator(base=2 if span <= 2**10 else 10))
    axis.set_major_formatter(lambda v, _: f"{int(round(v)):,}")


def _count_axis(axis) -> None:
    """A log axis for counts: powers of ten, no minor ticks."""
    from matplotlib.ticker import NullLocator

    axis.set_minor_locator(NullLocator())


def _floats(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Exact values as floats for drawing; invalid points as NaN (not drawn)."""
    out = np.array([float(v) for v in np.asarray(values).ravel()], dtype=float).reshape(np.shape(values))
    out[~valid] = np.nan
    return out


def plot_scaling(target, dim, values, path, what="total", given: dict | None = None, causal: bool = False,
                 title: str | None = None) -> Path:
    """``what`` (one quantity or a list) against ``dim`` on log-log axes, saved to ``path``."""
    path = check_path(path)
    name = name_of(dim)
    whats = [what] if isinstance(what, str) else list(what)
    result = sweep(target, {name: values}, given=given, what=whats, causal=causal)
    x = result.axes[name].astype(float)
    figure = _figure()
    axes = figure.add_subplot()
    for w in whats:
        line, = axes.plot(x, _floats(result[w], result.valid), marker="o", markersize=3, label=_LABELS.get(w, w))
        if not result.valid.all():  # drawn hollow: the formula does not apply there
            every = _floats(result[w], np.ones(x.shape, bool))
            axes.plot(x[~result.valid], every[~result.valid], linestyle="none", marker="o", markersize=4,
                      markerfacecolor="none", color=line.get_color())
    axes.set_xscale("log")
    axes.set_yscale("log")
    _dim_axis(axes.xaxis, result.axes[name])
    axes.set_xlabel(name)
    _count_axis(axes.yaxis)
    axes.set_ylabel(_LABELS.get(whats[0], whats[0]) if len(whats) == 1 else "count")
    if len(whats) > 1:
        axes.legend()
    axes.grid(True, which="major", alpha=0.3)
    axes.set_title(title or _title(target, result.given), fontsize="medium")
    return _save(figure, path)


def plot_shares(count, dim, values, path, by="block", what="total", depth: int = 1, given: dict | None = None,
                causal: bool = False, title: str | None = None) -> Path:
    """The shares of ``what`` (:func:`~symcount.scaling.shares.shares`) against ``dim``
    as stacked areas (log ``x`` axis), saved to ``path``."""
    path = check_path(path)
    name = name_of(dim)
    parts = _shares(count, by=by, what=what, depth=depth, causal=causal)
    result = sweep(count, {name: values}, given=given, what=parts.parts)
    x = result.axes[name].astype(float)
    stack = np.array([_floats(result[label], np.ones(x.shape, bool)) for label in parts.parts])
    fractions = stack / stack.sum(axis=0)
    fractions[:, ~result.valid] = np.nan
    figure = _figure()
    axes = figure.add_subplot()
    axes.stackplot(x, fractions, labels=list(parts.parts), alpha=0.85)
    axes.set_xscale("log")
    _dim_axis(axes.xaxis, result.axes[name])
    axes.set_ylim(0, 1)
    axes.set_xlim(x.min(), x.max())
    axes.set_xlabel(name)
    axes.set_ylabel(f"share of {_LABELS.get(what, what)}")
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    axes.set_title(title or _title(count, result.given), fontsize="medium")
    return _save(figure, path)


def plot_contours(target, x, y, path, what="total", given: dict | None = None, budgets=(), causal: bool = False,
                  title: str | None = None) -> Path:
    """``log10`` of ``what`` over two dims ``x = (name, values)`` and ``y = (name,
    values)`` as filled contours, each budget (exact numbers: ``"7e9"``) a labelled
    line; points that break a validity condition marked. Saved to ``path``."""
    path = check_path(path)
    (xname, xvalues), (yname, yvalues) = ((name_of(a), b) for a, b in (x, y))
    result = sweep(target, {xname: xvalues, yname: yvalues}, given=given, what=what, causal=causal)
    xs, ys = result.axes[xname].astype(float), result.axes[yname].astype(float)
    if len(xs) < 2 or len(ys) < 2:
        raise ArgumentError("plot_contours: each dim needs at least two values")
    z = _floats(result.values, np.ones(result.shape, bool)).T  # rows are y
    figure = _figure()
    axes = figure.add_subplot()
    filled = axes.contourf(xs, ys, np.log10(z), levels=20, cmap="viridis")
    figure.colorbar(filled, ax=axes, label=f"log10 {_LABELS.get(what, what)}")
    levels = sorted(float(exact_number(b, "budget")) for b in budgets)
    if levels:
        lines = axes.contour(xs, ys, z, levels=levels, colors="white", linewidths=1.5)
        axes.clabel(lines, fmt={lv: f"{lv:.3g}" for lv in levels}, fontsize="small")
    invalid = ~result.valid
    if invalid.any():  # flagged, not hidden: the formula does not apply there
        grid = result.grid()
        if invalid.sum() <= 2500:
            axes.scatter(grid[xname][invalid].astype(float), grid[yname][invalid].astype(float), marker="x",
                         s=8, color="0.35", linewidths=0.8, label="breaks a validity condition")
            axes.legend(loc="lower right", fontsize="small")
        else:
            axes.contourf(xs, ys, invalid.T.astype(float), levels=[0.5, 1.5], colors="none", hatches=["xx"])
    axes.set_xscale("log")
    axes.set_yscale("log")
    _dim_axis(axes.xaxis, result.axes[xname])
    _dim_axis(axes.yaxis, result.axes[yname])
    axes.set_xlabel(xname)
    axes.set_ylabel(yname)
    axes.set_title(title or _title(target, result.given), fontsize="medium")
    return _save(figure, path)


def _title(target, given: dict) -> str:
    name = getattr(target, "name", "")
    values = ", ".join(f"{k}={v}" for k, v in given.items())
    return f"{name} ({values})" if name and values else name or values
