"""``python -m edlib.bench NAME [NAME ...]``: run benchmarks, one JSON object per line."""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys

from edlib.bench import BENCHMARKS


def _load_all() -> None:
    package = __package__ or "edlib.bench"
    for info in pkgutil.iter_modules(sys.modules[package].__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


def main(argv: list[str]) -> int:
    _load_all()
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m edlib.bench NAME ...   (names: {', '.join(sorted(BENCHMARKS))})")
        return 0 if argv else 2
    unknown = [n for n in argv if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; known: {', '.join(sorted(BENCHMARKS))}", file=sys.stderr)
        return 2
    for name in argv:
        result = BENCHMARKS[name]()
        for row in result if isinstance(result, list) else [result]:
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
