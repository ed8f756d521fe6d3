"""Coupling, measured on a running system's topology (``world.topology()``).

Two kinds of dependency between services:

- **direct**: a service *calls* another; it needs that service up, now, to do its work
  (an edge ``a -> b`` of kind ``call`` in the topology);
- **through events**: a service *handles* events another publishes; it needs their
  shape (the contract), but not the publisher's availability.

:func:`service_edges` lists the direct edges, :func:`fan_out` counts them per service,
:func:`dependencies` gives, per service, whom it calls and whose events it reads
(who knows whom), and :func:`coupling_summary` sums it up as numbers.

The topology is built from what the system has done: a call or a publish counts once it
has happened at least once, so measure after running the system on representative
requests (declared ``publishes=[...]`` ownership counts from the start).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.world import World


def service_edges(world: "World") -> list[tuple[str, str]]:
    """Direct dependencies: (caller, callee) for every call edge between two services, sorted."""
    g = world.topology()
    return sorted((a, b) for a, b in g.edges
                  if g.nodes[a].get("role") == "service" and g.nodes[b].get("role") == "service")


def fan_out(world: "World") -> dict[str, int]:
    """Per service (sorted by name): how many other services it calls directly."""
    edges = service_edges(world)
    return {name: sum(a == name for a, _ in edges) for name in sorted(world.services)}


def publishers(world: "World") -> dict[str, str]:
    """Event type -> the service that publishes it (declared owner, else the one seen publishing)."""
    seen = {t: name for name in sorted(world.services) for t in sorted(world.services[name].publishes)}
    return {**seen, **world.event_owners}


def dependencies(world: "World") -> dict[str, dict[str, list[str]]]:
    """Who knows whom: per service, ``{"calls": [...], "reads events of": [...]}`` (sorted names).

    Events published by the gateway or a client count as ``"gateway"``.
    """
    owners = publishers(world)
    edges = service_edges(world)
    out = {}
    for name in sorted(world.services):
        svc = world.services[name]
        read = {owners.get(t, "gateway") for t in svc.handlers} - {name}
        out[name] = {"calls": sorted(b for a, b in edges if a == name), "reads events of": sorted(read)}
    return out


def coupling_summary(world: "World") -> dict[str, Any]:
    """The numbers: direct edges between services, largest fan-out, event dependencies,
    and how many services one request needs up (the entry services and everything they call)."""
    deps = dependencies(world)
    fan = fan_out(world)
    return {
        "direct edges": len(service_edges(world)),
        "largest fan-out": max(fan.values(), default=0),
        "event dependencies": sum(len(d["reads events of"]) for d in deps.values()),
        "services a request needs up": len(needed_up(world)),
    }


def needed_up(world: "World") -> list[str]:
    """Services that must be up for the gateway to answer a request: those it calls, and
    everything they call, transitively (sorted)."""
    g = world.topology()
    entry = [b for a, b in g.out_edges("gateway") if g.nodes[b].get("role") == "service"]
    edges = service_edges(world)
    need, todo = set(), list(entry)
    while todo:
        name = todo.pop()
        if name not in need:
            need.add(name)
            todo += [b for a, b in edges if a == name]
    return sorted(need)
