"""Who may open a page. Data-level rules (whose ticket is it?) live in the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

__all__ = ["admin_required", "agent_required", "login_required"]


def _role_required(check: Callable[[object], bool]):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not check(current_user):
                # 404, not 403: a customer learns nothing about what exists behind agent URLs.
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


agent_required = _role_required(lambda user: user.is_agent)
admin_required = _role_required(lambda user: user.is_admin)
