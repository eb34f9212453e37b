"""The layout holds: imports flow one way (parse -> model -> render -> runtime -> drivers ->
verify -> cli; junos beside drivers and verify, importing neither the runtime nor the CLI) and no
module imports, directly or through others, a module that imports it back. Read from the source
(every import statement, the ones inside functions too), not from what happens to be loaded."""
from __future__ import annotations

import ast
from pathlib import Path

from ..conftest import REPO

HARNESS = REPO / "harness"
LAYERS = {"files": 0, "errors": 0.5, "progress": 0.5, "parse": 1, "model": 2, "render": 3, "runtime": 4,
          "junos": 3.5, "drivers": 5, "verify": 6, "cli": 7}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in HARNESS.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The harness modules `name` imports (a package's __init__ counts as imported with it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.add(full if full in known else target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    deps = set()
    for t in out:
        while t and t not in known:
            t = t.rpartition(".")[0]
        if t and t != name:
            deps.add(t)
            parts = t.split(".")
            deps |= {".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in known}
    deps.discard(name)
    return {d for d in deps if not name.startswith(d + ".") or d == "harness"} - {"harness"}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {n: imports(n, p, set(mods)) for n, p in mods.items()}


def layer(module: str) -> float:
    return LAYERS[module.split(".")[1]] if module.count(".") else -1


def test_imports_never_go_up_the_layers():
    wrong = [f"{a} imports {b}" for a, deps in graph().items() for b in deps
             if layer(b) > layer(a) and not (a.startswith("harness.junos") and b.startswith("harness.junos"))]
    assert not wrong, "\n".join(sorted(wrong))


def test_junos_imports_neither_the_runtime_nor_the_cli_nor_the_drivers():
    wrong = [f"{a} imports {b}" for a, deps in graph().items() if a.startswith("harness.junos")
             for b in deps if b.split(".")[1] in ("runtime", "cli", "drivers", "verify")]
    assert not wrong, wrong


def test_no_import_cycles():
    g = graph()
    cycles = []
    for start in g:  # a path from a module back to itself
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in g.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert not cycles, "\n".join(sorted(set(cycles))[:10])


def test_the_checker_sees_imports_inside_functions():
    """A lazy import counts: the graph must hold the drivers' lazy import of the SSH driver."""
    assert "harness.drivers.junos_ssh" in graph()["harness.drivers"]
