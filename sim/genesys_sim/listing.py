"""Paged entity listings in the platform's shape (`*EntityListing`, `ContactListing`)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode


class BadParam(ValueError):
    """A query parameter the platform would answer 400 for."""


def int_param(params: Any, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """Read an integer query parameter or raise BadParam."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadParam(f"{name} must be an integer") from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise BadParam(f"{name} must be between {minimum} and {maximum if maximum is not None else 'any'}")
    return value


def listing(
    entities: list[dict[str, Any]],
    total: int,
    page_size: int,
    page_number: int,
    base_path: str,
    extra_query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Wrap one page of entities with counts and first/self/next/previous/last URIs."""
    page_count = max(1, math.ceil(total / page_size)) if page_size else 1

    def uri(n: int) -> str:
        return f"{base_path}?{urlencode({**(extra_query or {}), 'pageSize': page_size, 'pageNumber': n})}"

    out: dict[str, Any] = {
        "entities": entities,
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "pageCount": page_count,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(page_count),
    }
    if page_number < page_count:
        out["nextUri"] = uri(page_number + 1)
    if page_number > 1:
        out["previousUri"] = uri(page_number - 1)
    return out
