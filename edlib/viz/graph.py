"""The graph every picture is drawn from: the world's topology, checked and completed from a trace.

Nothing here is written by hand: nodes and edges come from ``World.topology()`` (what
exists) and from trace records (what travelled). Node names say their role: ``client``,
``gateway``, ``bus``, ``dead letters``, ``<service>.db`` for databases, any other word
for a service.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from edlib.core.trace import TraceRecord

ROLES = ("client", "gateway", "service", "database", "bus", "dead letters")
DEAD_LETTERS = "dead letters"
_FIXED = {"client": "client", "gateway": "gateway", "bus": "bus", DEAD_LETTERS: "dead letters"}
_EDGE_KINDS = ("request", "call", "publish", "deliver", "write", "dead_letter")


def infer_role(name: Any) -> str | None:
    """The role a node name implies (``orders.db`` -> database), or None for a name no system uses."""
    if not isinstance(name, str) or not name:
        return None
    if name in _FIXED:
        return _FIXED[name]
    if name.endswith(".db") and name[:-3].isidentifier():
        return "database"
    return "service" if name.isidentifier() else None


def topology_of(system: Any) -> nx.DiGraph:
    """A checked copy of the topology of ``system`` (a World, or a networkx DiGraph with ``role`` on nodes)."""
    if isinstance(system, nx.DiGraph):
        graph = system.copy()
    elif callable(getattr(system, "topology", None)):
        graph = system.topology()
        if getattr(system, "dead_letters", None):
            graph.add_node(DEAD_LETTERS, role="dead letters")
            graph.add_edge("bus", DEAD_LETTERS, kind="dead_letter")
    else:
        raise TypeError(f"draw a World or a networkx DiGraph, got {type(system).__name__}")
    for node, role in graph.nodes(data="role"):
        if role not in ROLES:
            raise ValueError(f"node {node!r} has role {role!r}; a role is one of {', '.join(ROLES)}")
    return graph


def check_records(records: Iterable[Any]) -> list[TraceRecord]:
    """The records as a list, each checked to be a TraceRecord (a clear error otherwise)."""
    out = list(records)
    for r in out:
        if not isinstance(r, TraceRecord):
            raise TypeError(f"a trace holds TraceRecord objects, got {type(r).__name__}: {r!r}")
    return out


def complete_with(graph: nx.DiGraph, records: Iterable[TraceRecord], *, strict: bool) -> nx.DiGraph:
    """Add to ``graph`` the nodes and edges that ``records`` travel.

    ``strict``: every node a record names must already be in ``graph`` (``dead letters``
    excepted); otherwise new nodes get the role their name implies.
    """
    unknown: set[str] = set()
    for r in records:
        for name in (r.source, r.target):
            if name in graph:
                continue
            role = infer_role(name)
            if role is None or (strict and name != DEAD_LETTERS):
                unknown.add(repr(name))
            else:
                graph.add_node(name, role=role)
        if r.kind in _EDGE_KINDS and r.source != r.target and not unknown and not graph.has_edge(r.source, r.target):
            graph.add_edge(r.source, r.target, kind=r.kind)
    if unknown:
        known = ", ".join(sorted(graph)) or "none"
        raise ValueError(f"the trace names nodes that are not in the system: {', '.join(sorted(unknown))} "
                         f"(known nodes: {known})")
    return graph
