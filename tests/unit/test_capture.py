"""Capture rules without HTTP: titles, sections, review permissions, drafts from tickets and gaps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal.clock import utcnow
from portal.errors import InvalidTransition, NotAllowed
from portal.models import Message, SectionReview
from portal.services import capture
from portal.services.publishing import KbTarget

FIXTURE_KB = Path(__file__).resolve().parents[1] / "data" / "kb"


@pytest.mark.parametrize(("subject", "lang", "title"), [
    ("How do I change my Wi-Fi password", "en", "How do I change my Wi-Fi password?"),
    ("Can't log in to the app", "en", "What to do if you cannot log in to the app?"),
    ("Router keeps rebooting", "en", "How to fix: router keeps rebooting"),
    ("Re: Fwd: Invoice shows twice", "en", "How to fix: invoice shows twice"),
    ("cómo cambio la contraseña", "es", "¿Cómo cambio la contraseña?"),
    ("No puedo ver la factura", "es", "¿Qué hacer si no puedes ver la factura?"),
    ("El router se reinicia", "es", "¿Qué hacer si el router se reinicia?"),
])
def test_title_from_subject(subject, lang, title):
    assert capture.title_from_subject(subject, lang) == title


@pytest.fixture
def target(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    return KbTarget(kb_dir=kb)


def _solved(make, db, agent, **kwargs):
    category = make.category(name="Billing and invoices", name_es="Facturación")
    ticket = make.ticket(status="solved", assignee=agent, category=category, **kwargs)
    db.add(Message(ticket=ticket, author=agent, body="Press Download in My invoices.", public=True,
                   created_at=utcnow()))
    db.add(Message(ticket=ticket, author=agent, body="Internal: refund approved by Tomás.", public=False,
                   created_at=utcnow()))
    db.flush()
    return ticket


def test_draft_takes_section_from_the_category_and_skips_private_notes(make, db, agnes):
    ticket = _solved(make, db, agnes, subject="Invoice shows twice")
    draft = capture.draft_from_ticket(db, ticket, actor=agnes, now=utcnow())
    assert draft.section == "billing" and "Press Download" in draft.body and "refund approved" not in draft.body
    again = capture.draft_from_ticket(db, ticket, actor=agnes, now=utcnow())
    assert again.id == draft.id  # an open draft of the same ticket is resumed


def test_default_section_without_a_category(make, db, agnes):
    ticket = make.ticket(status="closed", assignee=agnes)
    assert capture.draft_from_ticket(db, ticket, actor=agnes, now=utcnow()).section == capture.DEFAULT_SECTION


@pytest.mark.parametrize("status", ["new", "open", "pending", "on_hold"])
def test_unsolved_tickets_cannot_become_articles(make, db, agnes, status):
    ticket = make.ticket(status=status, assignee=agnes)
    with pytest.raises(InvalidTransition):
        capture.draft_from_ticket(db, ticket, actor=agnes, now=utcnow())


def test_review_permissions(make, db, agnes, admin_user, target):
    diego = make.user(role="agent")
    db.add(SectionReview(section="billing", review_required=True))
    ticket = _solved(make, db, agnes, subject="Invoice shows twice")
    draft = capture.draft_from_ticket(db, ticket, actor=agnes, now=utcnow())
    assert capture.publish_draft(db, draft, target=target, actor=agnes, now=utcnow()) == "in_review"
    with pytest.raises(NotAllowed):
        capture.publish_draft(db, draft, target=target, actor=agnes, now=utcnow())
    with pytest.raises(NotAllowed):
        capture.send_back(db, draft, comment="no", actor=agnes, now=utcnow())
    capture.send_back(db, draft, comment="Shorter, please.", actor=diego, now=utcnow())
    assert draft.state == "draft" and draft.reviewer_id == diego.id
    capture.publish_draft(db, draft, target=target, actor=agnes, now=utcnow())
    assert capture.publish_draft(db, draft, target=target, actor=admin_user, now=utcnow()) == "published"
    assert (target.kb_dir / draft.published_path).exists()


def test_only_admins_switch_review(db, agnes, admin_user):
    with pytest.raises(NotAllowed):
        capture.set_section_review(db, "billing", True, actor=agnes, now=utcnow())
    capture.set_section_review(db, "billing", True, actor=admin_user, now=utcnow())
    assert capture.review_required(db, "billing") and not capture.review_required(db, "connection")


def test_draft_from_a_gap_query(db, agnes):
    draft = capture.draft_from_gap(db, query="router red light", lang="en", actor=agnes, now=utcnow())
    assert draft.title == "How to fix: router red light" and "router red light" in draft.body.lower()
