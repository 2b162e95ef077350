"""Small helpers for answering htmx requests and plain requests from the same view."""

from __future__ import annotations

from flask import Response, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def vary_on_htmx(response: Response) -> Response:
    """Caches must keep the fragment and the full page apart."""
    response.vary.add("HX-Request")
    return response
