"""How the package is put together: imports flow one way, interventions see only their context."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SIM.rglob("*.py"):
        parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path], in_functions: bool = True) -> set[str]:
    """Every module of ``sim`` that ``name`` imports: at the top, inside functions, and under
    ``TYPE_CHECKING`` alike (a type-only import still ties the two modules together); without
    ``in_functions``, only what importing ``name`` imports (and its type-only imports)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def module_of(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree) if in_functions else _outside_functions(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from sim.x import y`` imports the module sim.x.y when there is one, else a name of sim.x.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found |= {m for t in targets if (m := module_of(t)) and m != name}
    return found


def _outside_functions(node: ast.AST):
    """The nodes under ``node`` that run when the module is imported (not inside a function's body)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield child
            yield from _outside_functions(child)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(in_functions: bool) -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules, in_functions) for name, path in modules.items()}


def _described(graph: dict[str, set[str]], cycles: list[list[str]]) -> list[str]:
    return ["; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) for c in cycles]


def test_importing_sim_imports_no_module_in_a_cycle():
    """What a module imports when it is imported, type-only imports included, never leads back to it."""
    graph = _graph(in_functions=False)
    assert graph["sim.model"] >= {"sim.interventions", "sim.scenario.schema"}  # the graph sees imports
    assert "sim.interventions.context" in graph["sim.interventions.base"]  # ... and type-only ones
    cycles = _cycles(graph)
    assert not cycles, f"import cycles: {_described(graph, cycles)}"


def test_the_import_graph_of_sim_has_no_cycles_even_through_imports_inside_functions():
    """Imports inside functions count too (they tie modules together all the same)."""
    graph = _graph(in_functions=True)
    assert "sim.app.serve" in graph["sim.cli"]  # the graph sees imports inside functions
    cycles = _cycles(graph)
    assert not cycles, f"import cycles: {_described(graph, cycles)}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Interventions may import their own package, the levers, the dispute system's registration types,
# metric declarations, parameters, random streams, the city and the crime-type list: nothing that runs
# a model.
_INTERVENTION_IMPORTS = ("sim.interventions", "sim.levers", "sim.disputes", "sim.metrics", "sim.params", "sim.rng",
                         "sim.space.city", "sim.mechanisms.crime_types")


def _intervention_modules() -> list[Path]:
    folder = SIM / "interventions"
    return [p for p in sorted(folder.glob("*.py")) if p.name not in ("__init__.py", "context.py")]


def test_interventions_import_nothing_that_runs_the_model():
    modules = _modules()
    bad = []
    for path in _intervention_modules():
        name = f"sim.interventions.{path.stem}"
        for m in _imports(name, path, modules):
            if not any(m == ok or m.startswith(ok + ".") for ok in _INTERVENTION_IMPORTS):
                bad.append(f"{path.name} imports {m}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sim.metrics":
                bad += [f"{path.name} imports sim.metrics.{a.name}" for a in node.names
                        if a.name not in ("Metric", "METRICS")]
    assert not bad, bad


def test_interventions_reach_nothing_private_beyond_themselves():
    """An intervention uses its context's public attributes only: no ``x._private`` but its own,
    so the model parts the context holds privately stay out of reach."""
    bad = []
    for path in _intervention_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                bad.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Name) and node.id in ("model", "PinganModel"):
                bad.append(f"{path.name}:{node.lineno} {node.id}")
    assert not bad, bad


def test_every_hook_of_every_intervention_is_given_the_context_and_not_the_model():
    import inspect

    from sim.interventions import REGISTRY, Intervention

    for cls in [Intervention, *REGISTRY.values()]:
        for hook in ("activate", "on_hour", "metrics"):
            first = list(inspect.signature(getattr(cls, hook)).parameters)[1]
            assert first == "ctx", f"{cls.__name__}.{hook} takes {first!r}"
