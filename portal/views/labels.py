"""Display names for things stored as identifiers, in the reader's language."""

from __future__ import annotations

from portal.errors import N_
from portal.extensions import request_translations

# The knowledge base's folders are identifiers; readers see these names. Unknown folders are prettified.
SECTION_LABELS = {
    "account": N_("Account"),
    "billing": N_("Billing"),
    "connection": N_("Connection"),
    "devices": N_("Devices"),
    "privacy": N_("Privacy"),
    "mobile": N_("Mobile"),
}
# An article's language, named in the reader's language: a Spanish reader sees "Inglés" on an English article.
LANGUAGE_LABELS = {"en": N_("English"), "es": N_("Spanish")}


def section_label(section: str | None) -> str:
    """`connection` → "Connection" / "Conexión"; `guides/setup` → "Setup"."""
    if not section:
        return ""
    last = section.rstrip("/").split("/")[-1]
    if last in SECTION_LABELS:
        return request_translations().ugettext(SECTION_LABELS[last])  # once per result listed: the quick way
    return last.replace("-", " ").replace("_", " ").capitalize()


def language_label(lang: str | None) -> str:
    """`en` → "English" / "Inglés"; an unknown code is shown as it is, in capitals."""
    if lang in LANGUAGE_LABELS:
        return request_translations().ugettext(LANGUAGE_LABELS[lang])
    return (lang or "").upper()
