"""The package's shape: layers as subpackages, no import cycles, small modules, a cheap ``import edlib``."""
from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import edlib

PACKAGE = Path(edlib.__file__).resolve().parent
LAYERS = ["core", "messaging", "runtime", "simulation", "viz", "patterns", "course", "exercises", "bench"]
"""Lowest first: a module may import its own layer and those before it, never one after it."""
MAX_LINES = 400


@functools.cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Every edlib module ``name`` imports, at the top, under TYPE_CHECKING or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("edlib")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("edlib"):
                known = modules()
                out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return out - {name}


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in modules().items():
        g.add_node(name)
        for target in imports(name, path):
            if target != "edlib":
                g.add_edge(name, target)
    return g


def test_the_top_level_holds_only_layer_subpackages():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert entries == sorted(["__init__.py", *LAYERS])


def test_no_module_imports_itself_back_even_for_type_checking():
    cycles = list(nx.simple_cycles(graph()))
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_each_layer_imports_only_itself_and_the_layers_below():
    wrong = []
    for source, target in graph().edges:
        if source == "edlib":      # the package's lazy public names come from every layer
            continue
        a, b = source.split(".")[1], target.split(".")[1]
        if a in LAYERS and b in LAYERS and LAYERS.index(b) > LAYERS.index(a):
            wrong.append(f"{source} -> {target}")
    # the one exception: a World draws itself, importing the drawing lazily inside World.draw/timeline
    assert [w for w in wrong if not w.startswith("edlib.simulation.world -> edlib.viz")] == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_are_small(name):
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by idea"


def test_runtime_and_simulation_ask_the_bus_instead_of_sniffing_it():
    pattern = re.compile(r"inspect\.signature|getattr\(.*bus")
    hits = [f"{p}:{n}" for folder in ("runtime", "simulation") for p in (PACKAGE / folder).rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []


def test_import_edlib_loads_no_heavy_library():
    code = ("import sys, edlib; heavy = [m for m in ('matplotlib', 'networkx', 'jsonschema', 'redis', 'numpy') "
            "if m in sys.modules]; print(','.join(heavy)); edlib.World; print(len(edlib.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "" if len(out) > 1 else out == [str(len(edlib.__all__))]


def test_a_world_runs_on_the_bus_it_is_given():
    from edlib.messaging.memory import InMemoryBus
    from edlib.simulation.world import World

    bus = InMemoryBus(partitions=2)
    world = World(seed=3, bus=bus)
    seen = []
    world.add_service("orders").handles("OrderPlaced")(lambda event: seen.append(event.key))
    for n in range(10):
        world.publish("OrderPlaced", {}, key=f"order-{n}")
    world.run()
    assert world.bus is bus and sorted(seen) == sorted(f"order-{n}" for n in range(10))
    assert all(bus.log("OrderPlaced", p) for p in range(2))    # both partitions used
    with pytest.raises(ValueError, match="give partitions and max_backlog to the bus"):
        World(bus=bus, partitions=2)
