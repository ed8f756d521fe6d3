"""Text rendering of what a saga coordinator did, for notebooks."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def show_log(rows: Iterable[Mapping[str, Any]]) -> None:
    """Print saga log rows (from :meth:`~edlib.patterns.saga.SagaCoordinator.log`) as a small table."""
    rows = list(rows)
    width = max([len("received")] + [len(r["received"]) for r in rows]) + 2
    sent = max([len("sent")] + [len(r["sent"]) for r in rows]) + 2
    print(f"{'saga':<11}{'received':<{width}}{'sent':<{sent}}note")
    for r in rows:
        print(f"{r['saga_id']:<11}{r['received']:<{width}}{r['sent']:<{sent}}{r['note']}")
