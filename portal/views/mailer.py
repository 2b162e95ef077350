"""The Flask side of e-mail: render `templates/emails/<name>.txt` + `.html` in the recipient's language,
then hand the message to `services.mail.outgoing`. Works in a request and in CLI commands (app context only).

A template pair looks like:

    emails/<name>.txt    {% extends "emails/_layout.txt" %}{% block subject %}…{% endblock %}{% block body %}…
    emails/<name>.html   {% extends "emails/_layout.html" %}{% block body %}…{% endblock %}

The subject is the `subject` block of the text template; the HTML template receives it as `subject`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale

from portal.models import User
from portal.services.mail import links, outgoing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


def recipient_language(user: User | None) -> str:
    """The person's own choice, else the portal's default language."""
    languages = current_app.config["LANGUAGES"]
    if user is not None and user.locale in languages:
        return str(user.locale)
    return str(current_app.config["DEFAULT_LANGUAGE"])


def absolute_url(endpoint: str, **values: object) -> str:
    """A link for an e-mail, on `BASE_URL`, whether or not a request is being served."""
    base = urlsplit(str(current_app.config["BASE_URL"]))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def base_url() -> str:
    """The portal's public address, as configured (checked at start): never the request's Host header."""
    return str(current_app.config["BASE_URL"])


def site_url(path: str) -> str:
    """A path of the site (`/kb/en/...`, as `Article.url` gives it) as an absolute link on `BASE_URL`."""
    return links.site_url(base_url(), path)


def ticket_url(ref: str) -> str:
    """The customer's page of a ticket, absolute: what `{{ ticket.url }}` says in a reply or a rule's mail."""
    return absolute_url("tickets.show", ref=ref)


def render_email(template: str, locale: str, **context: object) -> RenderedEmail:
    """Both versions of `emails/<template>` with every `_()` in `locale`. Whatever root-relative link is left in
    either (a reply's Markdown, an admin's text) is made absolute on `BASE_URL`: mail clients have no site to
    resolve it against."""
    env = current_app.jinja_env
    context = {"absolute_url": absolute_url, "lang": locale, "config": current_app.config, **context}
    with force_locale(locale):
        text_template = env.get_template(f"emails/{template}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(dict(context)))).strip()
        context["subject"] = subject
        text = text_template.render(context)
        html = env.get_template(f"emails/{template}.html").render(context)
    text, html = links.absolute_text(text, base_url()), links.absolute_html(html, base_url())
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html, language=locale)


def settings() -> outgoing.MailSettings:
    return outgoing.MailSettings.from_config(current_app.config)


def send_email(user: User, template: str, **context: object) -> bool:
    """Render `template` for `user` in their language and send it. A failure is logged, not raised: the
    action that triggered the mail has already been saved and the person should not see an error page."""
    language = recipient_language(user)
    rendered = render_email(template, language, user=user, **context)
    try:
        message = outgoing.build_message(
            to=user.email,
            to_name=user.name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            language=rendered.language,
            settings=settings(),
        )
        # An id incoming mail recognises as ours (services.mail.parsing.OWN_MESSAGE_ID): a loop, never a ticket.
        del message["Message-ID"]
        message["Message-ID"] = make_msgid(idstring="mesa", domain=settings().domain)
        outgoing.send(message, settings())
    except outgoing.MailError:
        log.exception("Could not send the %r e-mail to user %s", template, user.id)
        return False
    return True
