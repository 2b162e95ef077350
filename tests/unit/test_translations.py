"""Every message the code and templates can show has a Spanish translation that keeps its placeholders, and
the main pages really come out in Spanish."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.conftest import login

REPO = Path(__file__).resolve().parents[2]
TRANSLATIONS = REPO / "portal" / "translations"
SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")
FIXTURE_KB = REPO / "tests" / "data" / "kb"

PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[sdifrx]|\{[^{}]*\}")
MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|\*\*|`")


def _extract(tmp_path: Path):
    """The catalog `make i18n-extract` would build from the code and templates right now."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_", "--no-location",
         "-o", str(pot), "."],
        cwd=REPO, check=True, capture_output=True, timeout=60,
    )
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    return _extract(tmp_path_factory.mktemp("i18n"))


@pytest.fixture(scope="module")
def spanish():
    with SPANISH_PO.open("rb") as f:
        return read_po(f, locale="es")


def _forms(value) -> list[str]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _label(msgid) -> str:
    return repr(msgid if isinstance(msgid, str) else tuple(msgid))


def test_every_extracted_message_has_a_spanish_translation(extracted, spanish):
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = spanish.get(message.id)
        if translated is None:
            missing.append(f"{_label(message.id)} (not in the catalog: run make i18n-extract)")
        elif translated.fuzzy:
            missing.append(f"{_label(message.id)} (fuzzy)")
        elif not all(form.strip() for form in _forms(translated.string)):
            missing.append(_label(message.id))
    assert not missing, f"{len(missing)} message(s) without a Spanish translation:\n" + "\n".join(missing)


def test_plural_messages_have_both_spanish_forms(spanish):
    incomplete = [_label(m.id) for m in spanish if m.pluralizable and m.string and len(_forms(m.string)) != 2]
    assert not incomplete, "Spanish plurals need exactly two forms:\n" + "\n".join(incomplete)


def test_translations_keep_placeholders_and_markup(spanish):
    broken = []
    for message in spanish:
        if not message.id:
            continue
        ids = _forms(message.id)
        for index, form in enumerate(_forms(message.string)):
            if not form:
                continue
            source = ids[min(index, len(ids) - 1)]
            for pattern, what in ((PLACEHOLDER, "placeholders"), (MARKUP, "markup")):
                expected, found = sorted(pattern.findall(source)), sorted(pattern.findall(form))
                if expected != found:
                    broken.append(f"{_label(message.id)}: {what} {expected} became {found} in {form!r}")
    assert not broken, "Translations that changed placeholders or markup:\n" + "\n".join(broken)


# ---- Pages in Spanish ----


@pytest.fixture
def kb_app(app, tmp_path):
    target = tmp_path / "kb_articles"
    shutil.copytree(FIXTURE_KB, target)
    app.config.update(KB_DIR=str(target), KB_SYNC_INTERVAL=0)
    yield app
    index = app.extensions.pop("kb_index", None)
    if index is not None:
        index.close()


def _english_leftovers(page_text: str, catalog) -> list[str]:
    """Sentences from the catalog that show up untranslated on a Spanish page."""
    text = html.unescape(page_text)
    leftovers = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or PLACEHOLDER.search(message.id):
            continue
        if " " not in message.id or len(message.id) < 10 or message.string == message.id:
            continue
        if message.id in text:
            leftovers.append(message.id)
    return leftovers


@pytest.fixture
def compiled_spanish():
    assert SPANISH_MO.exists() and SPANISH_MO.stat().st_mtime >= SPANISH_PO.stat().st_mtime, (
        "The Spanish catalog is not compiled or is older than messages.po: run `make translations`.")


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "¿Cómo podemos ayudarte?"),
    ("/login", "¿Has olvidado tu contraseña?"),
    ("/kb", "Explorar por tema"),
])
def test_public_pages_are_in_spanish(kb_app, compiled_spanish, spanish, path, expected):
    page = kb_app.test_client().get(path, headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert '<html lang="es"' in page.text
    assert expected in html.unescape(page.text)
    assert _english_leftovers(page.text, spanish) == []


def test_new_ticket_page_is_in_spanish_for_a_logged_in_customer(kb_app, compiled_spanish, spanish, make):
    client = kb_app.test_client()
    carmen = make.user(email="carmen@example.com", name="Carmen Cliente", locale="es")
    login(client, carmen)
    page = client.get("/tickets/new", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<html lang="es"' in page.text
    for words in ("Enviar solicitud", "Asunto", "Describe el problema", "Mis solicitudes"):
        assert words in text
    for english in ("Send ticket", "Subject", "Describe the problem", "My tickets"):
        assert english not in text
    assert _english_leftovers(page.text, spanish) == []
