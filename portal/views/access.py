"""Who may open a page. Data-level rules (whose ticket is it?) live in the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

__all__ = ["admin_required", "agent_required", "login_required"]


def _role_required(check: Callable[[object], bool], area: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not check(current_user):
                # 403 naming the area, before the view runs: every URL under it answers the same, whether the
                # ticket or rule it names exists or not, so nothing is learned about what is behind it, and the
                # person is told why (they are signed in with an account that lacks the role) instead of a 404
                # that reads like a broken link.
                abort(403, description=area)
            return view(*args, **kwargs)

        return wrapped

    return decorator


agent_required = _role_required(lambda user: user.is_agent, "agent")
admin_required = _role_required(lambda user: user.is_admin, "admin")
