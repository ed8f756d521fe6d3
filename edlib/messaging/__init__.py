"""The messaging layer: the bus contract and its implementations.

``protocol`` is the whole :class:`~edlib.messaging.protocol.EventBus` contract (publish,
consumer groups, deliver/ack/nack, dead letters, replay, the log, a publish hook) with the
:class:`~edlib.messaging.protocol.Capabilities` each bus declares; ``memory`` is the
in-memory bus; ``redis_streams`` (with ``redis_wire``, ``redis_inspect`` and the
``redis_server`` helper) runs the same contract on Redis Streams. Later brokers go here.
"""
