"""Mesa, a self-service support portal. `create_app` wires configuration, extensions and blueprints."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from portal import config as settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then `PORTAL_*` environment variables, then `test_config`."""
    values = settings.defaults()
    settings.apply_environment(values, os.environ)
    if test_config:
        values.update(test_config)
    settings.finish(values)
    settings.warn_about_unset_base_url(values, os.environ, explicit=bool(test_config and "BASE_URL" in test_config))

    app = Flask(
        __name__,
        instance_path=str(values["INSTANCE_PATH"]),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(values)
    from flask_babel import lazy_gettext as _l

    app.config.setdefault("LOGIN_MESSAGE", _l("Please log in to open this page."))

    from portal.extensions import init_extensions

    init_extensions(app)

    from portal.views import register_blueprints

    register_blueprints(app)

    from portal.cli import register_commands

    register_commands(app)
    return app
