"""The patterns layer: event-driven patterns built on the simulation and the runtime.

``saga`` (orchestrated sagas with compensations), ``eventstore``, ``upcasting`` and
``fold`` (event sourcing), ``projections`` (CQRS read models), ``contracts`` (consumer
contracts for event types) and ``sensitive`` (masking and finding sensitive fields).
"""
