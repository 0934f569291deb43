"""Masking of sensitive personal fields.

Pages, API responses and exports show masked values unless the viewer explicitly reveals one,
which needs the ``registry.reveal_person`` permission in scope and is written to the audit trail
(see ``gongzhi.registry.services.person_reveal_field``).
"""
from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def mask_field(field: str, value):
    masker = MASKERS.get(field)
    return masker(value) if masker else value
