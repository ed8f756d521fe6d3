"""A deterministic layered layout: requests flow left to right, services stack top to bottom.

Columns: client, gateway, bus (when there is one), services, each database right of
its service. Services the gateway calls come first, then the others, by name. The
bus sits level with the services it serves, and moves down if a sync call would cross it.
"""
from __future__ import annotations

import networkx as nx

Position = tuple[float, float]


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _distance_to_segment(p: Position, a: Position, b: Position) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy or 1.0)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def layered_layout(graph: nx.DiGraph) -> dict[str, Position]:
    """Positions (x = column, y = -row) for every node of ``graph``, the same for the same graph."""
    role = dict(graph.nodes(data="role"))
    services = sorted((n for n in graph if role[n] == "service"),
                      key=lambda n: (not graph.has_edge("gateway", n), n))
    has_bus = "bus" in graph
    col = {"client": 0.0, "gateway": 1.0, "bus": 2.0}
    svc_x = 3.0 if has_bus else 2.0
    pos: dict[str, Position] = {s: (svc_x, -float(i)) for i, s in enumerate(services)}
    middle = _mean([y for _, y in pos.values()], 0.0)
    if has_bus:
        served = [pos[s][1] for s in services if graph.has_edge("bus", s) or graph.has_edge(s, "bus")]
        pos["bus"] = (col["bus"], _mean(served, middle))
    gateway_targets = [pos[n][1] for n in graph.successors("gateway")] if "gateway" in graph else []
    gateway_y = _mean(gateway_targets, middle)
    for name in ("client", "gateway"):
        if name in graph:
            pos[name] = (col[name], gateway_y)
    if has_bus and "gateway" in graph:
        calls = [pos[s] for s in services if graph.has_edge("gateway", s)]
        if any(_distance_to_segment(pos["bus"], pos["gateway"], c) < 0.3 for c in calls):
            pos["bus"] = (col["bus"], pos["bus"][1] - 0.5)
    lowest = min([y for _, y in pos.values()], default=0.0)
    for n in sorted(graph):
        if n in pos:
            continue
        if role[n] == "database":
            owner = n[:-3]
            x, y = pos.get(owner, (svc_x, lowest))
            pos[n] = (x + 1.0, y)
        elif role[n] == "dead letters":
            pos[n] = (col["bus"], min(lowest, pos.get("bus", (0.0, 0.0))[1]) - 0.8)
        else:
            pos[n] = (col.get(role[n], svc_x), lowest - 1.0)
    return pos
