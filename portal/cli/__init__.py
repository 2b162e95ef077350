"""`flask --app app <group> <command>`: one module per group, registered when present."""

from __future__ import annotations

import importlib

from flask import Flask

GROUPS = ("db", "users", "demo", "kb", "tickets", "mail", "webhooks", "reports", "rules")


def register_commands(app: Flask) -> None:
    for name in GROUPS:
        try:
            module = importlib.import_module(f"portal.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"portal.cli.{name}":
                raise
            continue
        app.cli.add_command(module.group)
    from portal.worker.runner import command as worker

    app.cli.add_command(worker)
