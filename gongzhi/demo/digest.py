"""A digest of the generated registry, to check that a seed reproduces the same county.

It covers every column the generator writes (ids included) and leaves out what depends on the
moment of the run (``created_at``/``updated_at``). Values are normalised (dates as ISO strings,
amounts with two decimals, JSON as sorted JSON) so the digest reads the same on PostgreSQL and
SQLite.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from .bulk import registry_model
from .generator import COLUMNS, TABLES


def _normal(value) -> str:
    if value is None:
        return "∅"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def registry_digest(tables=TABLES) -> str:
    digest = hashlib.sha256()
    for table in tables:
        digest.update(f"#{table}\n".encode())
        rows = registry_model(table)._base_manager.order_by("pk").values_list(*COLUMNS[table])
        for row in rows.iterator(chunk_size=20_000):
            digest.update("\t".join(_normal(v) for v in row).encode())
            digest.update(b"\n")
    return digest.hexdigest()
