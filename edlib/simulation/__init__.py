"""The simulation layer: a whole system on a virtual clock, where every run can be repeated exactly.

``world`` builds and runs it; ``env`` is what the world hands its parts (capabilities,
never the world itself); ``service``, ``gateway``, ``consumer`` and ``scheduler`` are
those parts; ``crashes`` and ``faults`` inject failures, ``chaos`` audits a run full of
them; ``interleave`` forces thread interleavings; ``queueing`` models services as queues.
"""
