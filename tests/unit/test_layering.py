"""Imports only go down: services and models know nothing of Flask or the views."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"
FORBIDDEN_BELOW_VIEWS = ("flask", "flask_login", "flask_wtf", "flask_babel", "flask_limiter", "werkzeug.wrappers",
                         "portal.views", "portal.extensions", "portal.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _lower_layers() -> list[Path]:
    files = list((PORTAL / "services").rglob("*.py")) + list((PORTAL / "models").rglob("*.py"))
    files += [PORTAL / name for name in ("db.py", "status.py", "errors.py", "search.py", "clock.py")]
    files += list((PORTAL / "search").rglob("*.py"))
    return [f for f in files if f.exists()]


def test_services_and_models_do_not_import_flask_or_views():
    offenders = {
        str(path.relative_to(PORTAL)): sorted(
            name for name in _imports(path) if name.split(".")[0] in FORBIDDEN_BELOW_VIEWS or
            any(name == f or name.startswith(f + ".") for f in FORBIDDEN_BELOW_VIEWS)
        )
        for path in _lower_layers()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_search_module_imports_whoosh():
    importers = [
        path.relative_to(PORTAL).as_posix()
        for path in PORTAL.rglob("*.py")
        if any(name == "whoosh" or name.startswith("whoosh.") for name in _imports(path))
    ]
    assert [name for name in importers if not name.startswith(("search.py", "search/"))] == []
