"""The permission matrix: every named URL of the project, tried by every persona.

Each app adds a module here exporting ``CASES``: a list of ``Case``. ``test_matrix.py`` fails
when any URL pattern of the project has no case, so a new page or endpoint cannot ship without
its permission test.

For each case the expectations are:
* anonymous → pages redirect to the login page; API answers 401/403;
* every persona in ``forbidden`` → 403 (holds no permission for this at all);
* every persona in ``out_of_scope`` → 404 (holds the permission, but not over this object);
* every persona in ``allowed`` → the ``ok`` status (200 by default).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Case:
    url_name: str  # "namespace:name" as reversed
    kwargs: Callable[[Any], dict] = lambda world: {}  # world → reverse() kwargs
    method: str = "get"
    data: Callable[[Any], dict] | None = None  # world → request body (POST)
    api: bool = False
    allowed: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    ok: tuple[int, ...] = (200,)
    query: str = ""
    public: bool = False  # reachable anonymously by design (login page, Open311 …)
    id: str = field(default="")

    def __post_init__(self):
        self.id = self.id or f"{self.method.upper()} {self.url_name}"
