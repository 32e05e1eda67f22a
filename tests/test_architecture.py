"""The package's dependencies go one way (issue 21; docs/architecture.md).

Every import in ``symcount/`` — module-level or inside a function — is read with
:mod:`ast`. The test fails on an import cycle, on an import from a higher level, on a name
starting with ``_`` imported from another module, and on a private module
(``importers/_keras.py``) imported from outside its package.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symcount"

#: the levels, from the ground up: a module imports from its own level or below
LEVELS = [
    ("symcount.errors",),
    ("symcount.files",),
    ("symcount.dims", "symcount.expression", "symcount.printing", "symcount.saved"),
    ("symcount.layer", "symcount.derivation"),
    ("symcount.count", "symcount.memory"),
    ("symcount.graph",),
    ("symcount.report", "symcount.scaling"),
    ("symcount.keras", "symcount.torch"),
    ("symcount.spec", "symcount.zoo"),
    ("symcount.importers",),
    ("symcount.targets",),
    ("symcount.cli", "symcount.cli_scaling", "symcount.cli_memory", "symcount.__main__"),
]
#: allowed upward imports, each with its reason
EXCEPTIONS = {
    # Count's one-line forwarders to the renderers (count.summary(), count.latex(), …)
    ("symcount.count", "symcount.report"),
}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """``(module imported, name imported or None, line)`` of every symcount import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:
                    found.append((full, None, node.lineno))
                elif target.startswith("symcount"):
                    found.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.startswith("symcount")]
    return found


def level(name: str) -> int | None:
    """The level of a module: that of its longest listed prefix (the package ``symcount``
    itself is the public face, above everything)."""
    best, found = -1, None
    for i, group in enumerate(LEVELS):
        for prefix in group:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    return found


def group(name: str) -> str:
    for g in LEVELS:
        for prefix in g:
            if name == prefix or name.startswith(prefix + "."):
                return prefix
    return name


def edges():
    for name, path in MODULES.items():
        for target, imported, line in imports(name, path):
            yield name, target, imported, line


def test_every_module_has_a_level():
    assert [n for n in MODULES if n != "symcount" and level(n) is None] == []


def test_no_import_from_a_higher_level():
    upward = []
    for name, target, _, line in edges():
        if name == "symcount" or target == "symcount":
            continue
        if level(target) > level(name) and (group(name), group(target)) not in EXCEPTIONS:
            upward.append(f"{name}:{line} imports {target}")
    assert upward == []


def test_no_private_name_from_another_module():
    private = [f"{name}:{line} imports {imported} from {target}" for name, target, imported, line in edges()
               if imported and imported.startswith("_") and not imported.startswith("__") and target != name]
    assert private == []


def test_no_private_module_from_outside_its_package():
    outside = []
    for name, target, _, line in edges():
        parts = target.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not part.startswith("__"):
                owner = ".".join(parts[:i])
                if not (name == owner or name.startswith(owner + ".")):
                    outside.append(f"{name}:{line} imports {target}")
                break
    assert outside == []


def test_no_import_cycle():
    graph: dict[str, set] = {}
    for name, target, _, _ in edges():
        if target in MODULES and target != name:
            graph.setdefault(name, set()).add(target)
    # Tarjan's strongly connected components
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in MODULES:
        if v not in index:
            visit(v)
    assert cycles == []
