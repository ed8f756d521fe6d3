"""The core layer: what every other layer is made of, with no knowledge of buses, worlds or processes.

``events`` and ``payloads`` (immutable events with validated JSON data), ``schemas``
(JSON Schema checks with clear messages), ``ids`` and ``clock`` (seeded ids; virtual, wall
and epoch clocks), ``handlers`` (what a handler function is and what it may ask for),
``database`` (a service's own SQLite database), ``retry`` (backoff policies), ``outages``
(the one type for "down between t1 and t2") and ``trace`` (what happened, for drawings).
"""
