"""`next` parameters may only lead back into this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_target(target: str | None) -> str | None:
    """The path itself when it is local (`/tickets?x=1`), otherwise None."""
    if not target or len(target) > 2000:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target
