"""The runtime layer: how a handler runs, in the simulation and in a real process alike.

``runner`` is the one :class:`~edlib.runtime.runner.HandlerRunner` (dependency injection,
idempotent consumer, outbox write and relay, publish after commit) and ``rights`` its
least-privilege check; both the simulated service and the real ``host`` use them. The
real-process side: ``host`` (a service on any bus), ``http_gateway`` (the shop's HTTP
door), ``process`` (``python -m edlib.runtime.process``), ``processes`` and ``cluster``
(starting, stopping and tracing the shop as processes).
"""
