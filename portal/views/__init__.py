"""Blueprints, security headers, template helpers and error handlers."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from portal.views import auth, errors, input_bounds, main, security

    input_bounds.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    _template_helpers(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    optional = (
        "kb", "api_kb", "tickets", "satisfaction", "agent", "agent_ops", "agent_phone", "admin_support", "capture",
        "reports", "admin", "admin_webhooks", "admin_rules", "admin_rules_editor", "api", "api_tokens",
    )
    for module_name in optional:
        _register_if_present(app, module_name)


def _register_if_present(app: Flask, module_name: str) -> None:
    """Areas land one issue at a time; the app starts with whichever exist."""
    import importlib

    try:
        module = importlib.import_module(f"portal.views.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"portal.views.{module_name}":
            raise
        return
    init = getattr(module, "init_app", None)
    if init is not None:
        init(app)
    app.register_blueprint(module.bp)


def _template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from portal.extensions import babel
    from portal.views.event_text import channel_label, event_sentence, priority_label
    from portal.views.labels import language_label, rule_event_text, section_description, section_icon, section_label
    from portal.views.when import ago, time_tag, when

    app.add_template_filter(section_label)
    app.add_template_filter(section_description)
    app.add_template_filter(section_icon)
    app.add_template_filter(language_label)
    app.add_template_global(rule_event_text)
    app.add_template_global(event_sentence)
    app.add_template_filter(channel_label)
    app.add_template_filter(priority_label)
    app.add_template_filter(when)
    app.add_template_filter(ago)
    app.add_template_global(time_tag)
    # Day, month and minutes: seconds and AM/PM only clutter a conversation.
    babel.date_formats["datetime.medium"] = "d MMM y, HH:mm"

    @app.context_processor
    def _helpers() -> dict[str, object]:
        return {
            "has_endpoint": lambda endpoint: endpoint in app.view_functions,
            "current_locale": str(get_locale() or app.config["DEFAULT_LANGUAGE"]),
        }
