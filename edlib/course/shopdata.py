"""The shop's data sets in ``data/`` (described field by field in ``data/README.md``), loaded.

Notebooks pass their own relative path (``Path("../data/customers.csv")``); code in
``edlib`` (exercises, tests) uses the default, the repository's ``data/`` folder.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The repository's ``data/`` folder."""


def _path(path: str | Path | None, default: str) -> Path:
    return DATA_DIR / default if path is None else Path(path)


def load_customers(path: str | Path | None = None) -> list[dict[str, str]]:
    """``customers.csv``: one dict per customer (customer_id, name, email, country, card_number)."""
    with _path(path, "customers.csv").open(newline="", encoding="utf-8") as f:
        return [dict(row) for row in csv.DictReader(f)]


def load_products(path: str | Path | None = None) -> list[dict[str, Any]]:
    """``products.csv``: one dict per product (sku, name, price_cents and stock as ints)."""
    with _path(path, "products.csv").open(newline="", encoding="utf-8") as f:
        return [{**row, "price_cents": int(row["price_cents"]), "stock": int(row["stock"])}
                for row in csv.DictReader(f)]


def load_requests(path: str | Path | None = None) -> list[dict[str, Any]]:
    """``legacy_requests.jsonl``: one dict per line, ``{"request_id": ..., "body": ...}``, in file order."""
    with _path(path, "legacy_requests.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
