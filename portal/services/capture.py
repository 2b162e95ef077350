"""Knowledge capture: a solved ticket becomes a knowledge-base article.

`draft_from_ticket` prefills a draft (title as a question or how-to, "Problem" from the customer's description,
"Solution" from the agents' public replies, never the private notes), scrubbed of personal data first
(`scrubbing.scrub`), with the section and language of the ticket. Drafts are owned, saved in the database and
resumable. `publish_draft` writes the file through `publishing` (atomic, indexed at once); with review on for
the section, the first "publish" sends the draft for review and a different agent (or an admin) approves it
or sends it back with a comment. Edits of published articles keep the earlier text in `ArticleRevision`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from portal.articles import SUPPORTED_LANGUAGES, Article, content_hash, parse_article
from portal.errors import N_, Conflict, Invalid, InvalidTransition, NotAllowed, NotFound
from portal.models import ArticleDraft, ArticleRevision, SectionReview, Ticket, User
from portal.services import publishing, scrubbing
from portal.services.publishing import KbTarget

CAPTURABLE_STATUSES = ("solved", "closed")
DEFAULT_SECTION = "general"
TITLE_MAX = 200
SUMMARY_MAX = 300
BODY_MAX = 100_000
MAX_TAGS = 10
# Category names (English or Spanish, any case) → knowledge-base section. First match wins.
CATEGORY_SECTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("bill", "invoice", "payment", "factur", "pago", "cobro", "plan", "tarifa"), "billing"),
    (("account", "password", "login", "sign in", "cuenta", "contraseña", "acceso"), "account"),
    (("connect", "internet", "wifi", "wi-fi", "fibre", "fiber", "fibra", "conexi", "speed", "velocidad",
      "outage", "corte"), "connection"),
    (("device", "router", "tv", "phone", "mobile", "equipo", "dispositivo", "móvil", "movil", "decodific"),
     "devices"),
)
HEADINGS = {"en": ("Problem", "Solution"), "es": ("Problema", "Solución")}
_QUESTION_START = re.compile(r"^(?:how|what|why|where|when|can|could|is|are|do|does|which|who|"
                             r"c[oó]mo|qu[eé]|por qu[eé]|d[oó]nde|cu[aá]ndo|cu[aá]l|puedo|se puede|hay)\b", re.I)
_CANNOT = {"en": re.compile(r"^(?:i\s+)?(?:cannot|can't|can not|unable to)\s+", re.I),
           "es": re.compile(r"^no\s+(?:puedo|consigo|me deja)\s+", re.I)}
_REPLY_PREFIX = re.compile(r"^(?:(?:re|fw|fwd|rv|reenviar)\s*:\s*)+", re.I)


# ---- Reading --------------------------------------------------------------------------------------------


def get_draft(session: Session, draft_id: int, *, actor: User) -> ArticleDraft:
    draft = session.get(ArticleDraft, draft_id)
    if draft is None or not actor.is_agent:
        raise NotFound(N_("We could not find that draft."))
    return draft


def list_drafts(session: Session, *, actor: User, mine: bool, states: tuple[str, ...] = ("draft", "in_review"),
                limit: int = 200) -> list[ArticleDraft]:
    query = select(ArticleDraft).where(ArticleDraft.state.in_(states))
    if mine:
        query = query.where(ArticleDraft.owner_id == actor.id)
    return list(session.scalars(query.order_by(ArticleDraft.updated_at.desc(), ArticleDraft.id.desc()).limit(limit)))


def drafts_for_ticket(session: Session, ticket: Ticket) -> list[Row]:
    """Drafts and articles made from this ticket (newest first): id, title, state and published_path, which the
    ticket's workspace shows on every visit (not their bodies)."""
    drafts = ArticleDraft.__table__
    return list(session.connection().execute(
        select(drafts.c.id, drafts.c.title, drafts.c.state, drafts.c.published_path)
        .where(drafts.c.ticket_id == ticket.id, drafts.c.state != "archived").order_by(drafts.c.id.desc())))


def revisions_for(session: Session, path: str) -> list[ArticleRevision]:
    return list(session.scalars(select(ArticleRevision).where(ArticleRevision.path == path)
                                .order_by(ArticleRevision.id.desc())))


def tickets_sent_in(session: Session, path: str, limit: int = 50) -> list[Ticket]:
    """Tickets in which an agent later sent this article (when the agent desk records that)."""
    try:
        from portal.models.agent import SentArticle
    except ImportError:  # the agent desk is not installed
        return []
    return list(session.scalars(
        select(Ticket).join(SentArticle, SentArticle.ticket_id == Ticket.id)
        .where(SentArticle.article_path == path).order_by(SentArticle.id.desc()).limit(limit)
    ).unique())


def source_ticket_list(session: Session, refs: list[str]) -> list[Ticket]:
    if not refs:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.ref.in_(refs)).order_by(Ticket.id)))


# ---- Creating drafts -------------------------------------------------------------------------------------


def section_for(ticket: Ticket) -> str:
    """The ticket's category decides; without one (or an unknown one), its tags, then its subject."""
    category = ticket.category
    clues = (
        " ".join(filter(None, [getattr(category, "name_en", ""), getattr(category, "name_es", "")])),
        " ".join(ticket.tag_names),
        ticket.subject or "",
    )
    for clue in clues:
        lowered = clue.lower()
        for words, section in CATEGORY_SECTIONS:
            if lowered and any(word in lowered for word in words):
                return section
    return DEFAULT_SECTION


def title_from_subject(subject: str, lang: str) -> str:
    """The subject as a question or how-to: "Can't log in" → "What to do if you can't log in?"."""
    text = _REPLY_PREFIX.sub("", " ".join((subject or "").split())).strip(" .!¡?¿")
    if not text:
        return ""
    cannot = _CANNOT.get(lang, _CANNOT["en"]).match(text)
    if cannot:
        rest = text[cannot.end():]
        return f"¿Qué hacer si no puedes {rest}?" if lang == "es" else f"What to do if you cannot {rest}?"
    if _QUESTION_START.match(text):
        question = text[:1].upper() + text[1:]
        return f"¿{question}?" if lang == "es" else f"{question}?"
    lowered = text[:1].lower() + text[1:] if not text[:2].isupper() else text
    return f"¿Qué hacer si {lowered}?" if lang == "es" else f"How to fix: {lowered}"


def _people_names(ticket: Ticket) -> list[str]:
    people = {ticket.requester, ticket.assignee, *(message.author for message in ticket.messages)}
    return [person.name for person in people if person is not None and person.name]


def draft_from_ticket(session: Session, ticket: Ticket, *, actor: User, now: datetime) -> ArticleDraft:
    """A scrubbed, prefilled draft owned by the actor. An open draft of the same ticket is resumed instead."""
    if not actor.is_agent:
        raise NotFound(N_("We could not find that ticket."))
    if ticket.status not in CAPTURABLE_STATUSES:
        raise InvalidTransition(N_("Only solved or closed tickets can become articles."))
    existing = session.scalars(select(ArticleDraft).where(ArticleDraft.ticket_id == ticket.id,
                                                          ArticleDraft.state.in_(("draft", "in_review")))
                               .order_by(ArticleDraft.id.desc())).first()
    if existing is not None:
        return existing
    lang = ticket.language if ticket.language in SUPPORTED_LANGUAGES else "en"
    names = _people_names(ticket)
    removed: list[scrubbing.Removal] = []

    def clean(text: str) -> str:
        result = scrubbing.scrub(text, names=names)
        removed.extend(result.removed)
        return result.text

    public = [message for message in ticket.messages if message.public]
    from_customer = [m for m in public if m.author_id == ticket.requester_id]
    from_agents = [m for m in public
                   if m.author is not None and m.author.is_agent and m.author_id != ticket.requester_id]
    problem = clean(from_customer[0].body) if from_customer else ""
    solution = "\n\n".join(filter(None, (clean(message.body) for message in from_agents)))
    title = clean(title_from_subject(ticket.subject, lang))
    problem_heading, solution_heading = HEADINGS[lang]
    body = f"## {problem_heading}\n\n{problem}\n\n## {solution_heading}\n\n{solution}\n"
    tags = list(dict.fromkeys(tag for tag in ticket.tag_names))[:MAX_TAGS]
    draft = ArticleDraft(
        owner=actor, ticket=ticket, source_tickets=[ticket.ref], title=title[:TITLE_MAX],
        summary=_summary_from(problem), body=body, section=section_for(ticket), lang=lang, tags=tags,
        translation_key=publishing.slugify(title), state="draft",
        removed=[{"kind": item.kind, "original": item.original} for item in removed],
        created_at=now, updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def draft_from_gap(session: Session, *, query: str = "", tickets: list[Ticket] = (), lang: str, actor: User,
                   now: datetime) -> ArticleDraft:
    """A draft for a content gap: prefilled with the customers' question, or the tickets' problems."""
    lang = lang if lang in SUPPORTED_LANGUAGES else "en"
    problem_heading, solution_heading = HEADINGS[lang]
    removed: list[scrubbing.Removal] = []
    problems = []
    for ticket in tickets:
        result = scrubbing.scrub(ticket.messages[0].body if ticket.messages else ticket.subject,
                                 names=_people_names(ticket))
        removed.extend(result.removed)
        problems.append(f"- {result.text.splitlines()[0] if result.text else ''}")
    subject = query or (tickets[0].subject if tickets else "")
    cleaned = scrubbing.scrub(subject)
    removed.extend(cleaned.removed)
    title = title_from_subject(cleaned.text, lang)
    body = f"## {problem_heading}\n\n" + ("\n".join(problems) or cleaned.text) + f"\n\n## {solution_heading}\n\n"
    draft = ArticleDraft(
        owner=actor, ticket=tickets[0] if tickets else None, source_tickets=[t.ref for t in tickets],
        title=title[:TITLE_MAX], body=body, section=section_for(tickets[0]) if tickets else DEFAULT_SECTION,
        lang=lang, tags=[], translation_key=publishing.slugify(title), state="draft",
        removed=[{"kind": item.kind, "original": item.original} for item in removed], created_at=now, updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def _summary_from(text: str) -> str:
    first = " ".join((text or "").split())
    return first if len(first) <= SUMMARY_MAX else first[:SUMMARY_MAX - 1].rsplit(" ", 1)[0] + "…"


# ---- Editing drafts -------------------------------------------------------------------------------------


def parse_tags(raw: str | list[str] | None) -> list[str]:
    items = raw if isinstance(raw, list) else (raw or "").split(",")
    tags = [" ".join(str(item).split()).lower()[:40] for item in items]
    return list(dict.fromkeys(tag for tag in tags if tag))[:MAX_TAGS]


def save_draft(session: Session, draft: ArticleDraft, *, title: str, body: str, section: str, lang: str,
               tags: str | list[str], summary: str | None = None, actor: User, now: datetime) -> ArticleDraft:
    _require_open(draft)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(N_("Give the article a title."), field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(N_("Keep the title under %(max)d characters."), field="title", max=TITLE_MAX)
    if len(body or "") > BODY_MAX:
        raise Invalid(N_("The article is too long."), field="body")
    draft.section = publishing.check_section(section)
    draft.lang = publishing.check_lang(lang)
    draft.title, draft.body, draft.tags = title, (body or "").replace("\r\n", "\n"), parse_tags(tags)
    if summary is not None:
        draft.summary = " ".join(summary.split())[:SUMMARY_MAX]
    if not draft.translation_key:
        draft.translation_key = publishing.slugify(title)
    draft.updated_at = now
    return draft


def choose_append_target(session: Session, draft: ArticleDraft, path: str | None, *, target: KbTarget,
                         actor: User, now: datetime) -> ArticleDraft:
    """Publish the solution as a new section of an existing article instead of a new article (or undo)."""
    _require_open(draft)
    if not path:
        draft.append_to_path = draft.base_version = None
    else:
        _meta, _body, article = publishing.split_file(target.kb_dir, path, default_lang=target.default_lang)
        draft.append_to_path, draft.base_version = article.path, article.content_hash
    draft.updated_at = now
    return draft


def _require_open(draft: ArticleDraft) -> None:
    if not draft.is_open:
        raise InvalidTransition(N_("This draft is already %(state)s."), state=draft.state)


# ---- Review ---------------------------------------------------------------------------------------------


def review_required(session: Session, section: str) -> bool:
    setting = session.get(SectionReview, section)
    return bool(setting and setting.review_required)


def set_section_review(session: Session, section: str, required: bool, *, actor: User, now: datetime) -> SectionReview:
    if not actor.is_admin:
        raise NotAllowed(N_("Only an administrator can change this."))
    section = publishing.check_section(section)
    setting = session.get(SectionReview, section)
    if setting is None:
        setting = SectionReview(section=section)
        session.add(setting)
    setting.review_required, setting.updated_by_id, setting.updated_at = required, actor.id, now
    return setting


def section_reviews(session: Session) -> list[SectionReview]:
    return list(session.scalars(select(SectionReview).order_by(SectionReview.section)))


def can_approve(draft: ArticleDraft, actor: User) -> bool:
    return actor.is_admin or (actor.is_agent and actor.id != draft.owner_id)


def send_back(session: Session, draft: ArticleDraft, *, comment: str, actor: User, now: datetime) -> ArticleDraft:
    if draft.state != "in_review":
        raise InvalidTransition(N_("Only a draft in review can be sent back."))
    if not can_approve(draft, actor):
        raise NotAllowed(N_("Another agent or an administrator reviews this draft."))
    comment = (comment or "").strip()
    if not comment:
        raise Invalid(N_("Tell the author what to change."), field="comment")
    draft.state, draft.review_comment, draft.reviewer_id, draft.updated_at = "draft", comment[:2000], actor.id, now
    return draft


def archive_draft(session: Session, draft: ArticleDraft, *, actor: User, now: datetime) -> ArticleDraft:
    _require_open(draft)
    if actor.id != draft.owner_id and not actor.is_admin:
        raise NotAllowed(N_("Only the author or an administrator can discard this draft."))
    draft.state, draft.updated_at = "archived", now
    return draft


# ---- Publishing -----------------------------------------------------------------------------------------


def publish_draft(session: Session, draft: ArticleDraft, *, target: KbTarget, actor: User,
                  now: datetime) -> str:
    """"Publish": with review on for the section, a draft goes to review first ("in_review"); a draft in
    review is published by a different agent or an admin. Returns the draft's new state."""
    _require_open(draft)
    publishing.check_section(draft.section)
    publishing.check_lang(draft.lang)
    if not draft.title.strip():
        raise Invalid(N_("Give the article a title."), field="title")
    needs_review = review_required(session, draft.section)
    if needs_review and draft.state == "draft":
        draft.state, draft.review_comment, draft.updated_at = "in_review", None, now
        return draft.state
    if draft.state == "in_review" and not can_approve(draft, actor):
        raise NotAllowed(N_("Another agent or an administrator reviews this draft."))
    author = (actor.name, actor.email)
    if draft.append_to_path:
        _append(session, draft, target=target, actor=actor, now=now, author=author)
    elif draft.published_path:
        _rewrite(session, draft, target=target, actor=actor, now=now, author=author)
    else:
        relative = publishing.new_article_path(target.kb_dir, lang=draft.lang, section=draft.section,
                                               title=draft.title)
        meta = publishing.article_meta(
            title=draft.title, summary=draft.summary, tags=draft.tags, status="published", updated=now,
            author=draft.owner.name if draft.owner else actor.name, source_tickets=draft.source_tickets,
            translation_key=draft.translation_key or publishing.slugify(draft.title),
        )
        publishing.write_article(target, relative, meta=meta, body=draft.body, must_be_new=True, author=author,
                                 message=f"Publish {relative}")
        draft.published_path = relative
    draft.state, draft.reviewer_id, draft.updated_at = "published", actor.id if needs_review else None, now
    return draft.state


def _keep_revision(session: Session, relative: str, previous: bytes | None, *, change: str, actor: User,
                   now: datetime, default_lang: str) -> None:
    if previous is None:
        return
    old = parse_article(relative, previous, default_lang=default_lang)
    session.add(ArticleRevision(path=relative, body=previous.decode("utf-8", errors="replace"),
                                front_matter=_jsonable(old.extra), content_hash=content_hash(previous),
                                change=change, author_id=actor.id, created_at=now))


def _jsonable(meta: dict) -> dict:
    return {str(key): (value if isinstance(value, str | int | float | bool | list | type(None)) else str(value))
            for key, value in meta.items()}


def _rewrite(session: Session, draft: ArticleDraft, *, target: KbTarget, actor: User, now: datetime,
             author: tuple[str, str]) -> None:
    relative = draft.published_path or ""
    meta, _body, article = publishing.split_file(target.kb_dir, relative, default_lang=target.default_lang)
    if draft.base_version and article.content_hash != draft.base_version:
        _conflict()
    meta.update(title=draft.title, summary=draft.summary, tags=draft.tags, updated=now.date().isoformat(),
                translation_key=draft.translation_key or article.translation_key)
    meta.setdefault("status", "published")
    if draft.source_tickets:
        meta["source_tickets"] = list(dict.fromkeys([*article.source_tickets, *draft.source_tickets]))
    _new, previous = publishing.write_article(target, relative, meta=meta, body=draft.body,
                                              expected_hash=draft.base_version or article.content_hash,
                                              author=author, message=f"Edit {relative}")
    _keep_revision(session, relative, previous, change="edit", actor=actor, now=now, default_lang=target.default_lang)


def _append(session: Session, draft: ArticleDraft, *, target: KbTarget, actor: User, now: datetime,
            author: tuple[str, str]) -> None:
    relative = draft.append_to_path or ""
    meta, body, article = publishing.split_file(target.kb_dir, relative, default_lang=target.default_lang)
    if draft.base_version and article.content_hash != draft.base_version:
        _conflict()
    solution = _solution_part(draft)
    new_body = f"{body.rstrip()}\n\n## {draft.title}\n\n{solution.strip()}\n"
    meta["updated"] = now.date().isoformat()
    meta["source_tickets"] = list(dict.fromkeys([*article.source_tickets, *draft.source_tickets]))
    meta["tags"] = list(dict.fromkeys([*article.tags, *draft.tags]))
    _new, previous = publishing.write_article(target, relative, meta=meta, body=new_body,
                                              expected_hash=draft.base_version or article.content_hash,
                                              author=author, message=f"Add a section to {relative}")
    _keep_revision(session, relative, previous, change="append", actor=actor, now=now,
                   default_lang=target.default_lang)
    draft.published_path = relative


def _solution_part(draft: ArticleDraft) -> str:
    """The draft's "Solution" section when it has one, else the whole body."""
    for heading in (HEADINGS["en"][1], HEADINGS["es"][1]):
        match = re.search(rf"^##\s+{heading}\s*$", draft.body, re.M)
        if match:
            return draft.body[match.end():]
    return draft.body


def _conflict() -> None:
    raise Conflict(N_("Someone else changed this article since you opened it. Your text is kept in the draft: "
                      "reload the article and apply your change again."))


# ---- Published articles ---------------------------------------------------------------------------------


def edit_published(session: Session, path: str, *, target: KbTarget, actor: User, now: datetime) -> ArticleDraft:
    """A draft holding a published article's current text, remembering its version (content hash)."""
    if not actor.is_agent:
        raise NotFound(N_("We could not find that article."))
    meta, body, article = publishing.split_file(target.kb_dir, path, default_lang=target.default_lang)
    draft = ArticleDraft(
        owner=actor, source_tickets=[], title=article.title,
        summary=article.summary if article.explicit_summary else "", body=body,
        section=article.section or DEFAULT_SECTION, lang=article.lang, tags=article.tags,
        translation_key=article.translation_key, state="draft", published_path=article.path,
        base_version=article.content_hash, removed=[], created_at=now, updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def translate(session: Session, path: str, *, target: KbTarget, actor: User, now: datetime) -> ArticleDraft:
    """A new draft in the other language with the same translation key; the original is shown beside it."""
    if not actor.is_agent:
        raise NotFound(N_("We could not find that article."))
    _meta, body, article = publishing.split_file(target.kb_dir, path, default_lang=target.default_lang)
    other = next(lang for lang in SUPPORTED_LANGUAGES if lang != article.lang)
    draft = ArticleDraft(
        owner=actor, source_tickets=list(article.source_tickets), title=article.title, summary="", body=body,
        section=article.section or DEFAULT_SECTION, lang=other, tags=article.tags,
        translation_key=article.translation_key, state="draft", translation_of_path=article.path, removed=[],
        created_at=now, updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


STATUS_CHANGES = {"archive": "archived", "unpublish": "draft", "republish": "published"}


def change_article_status(session: Session, path: str, change: str, *, target: KbTarget, actor: User,
                          now: datetime) -> Article:
    """Archive, unpublish or republish an article: its front matter's status, written and indexed at once."""
    if not actor.is_agent:
        raise NotFound(N_("We could not find that article."))
    if change not in STATUS_CHANGES:
        raise Invalid(N_("Choose one of the actions offered."), field="change")
    meta, body, article = publishing.split_file(target.kb_dir, path, default_lang=target.default_lang)
    meta["status"], meta["updated"] = STATUS_CHANGES[change], now.date().isoformat()
    new, previous = publishing.write_article(target, article.path, meta=meta, body=body,
                                             expected_hash=article.content_hash, author=(actor.name, actor.email),
                                             message=f"{change.capitalize()} {article.path}")
    _keep_revision(session, article.path, previous, change=change, actor=actor, now=now,
                   default_lang=target.default_lang)
    for draft in session.scalars(select(ArticleDraft).where(ArticleDraft.published_path == article.path,
                                                            ArticleDraft.state == "published")):
        if change == "archive":
            draft.state, draft.updated_at = "archived", now
    return new


def article_for_agent(path: str, *, target: KbTarget) -> tuple[Article, str]:
    _meta, body, article = publishing.split_file(target.kb_dir, path, default_lang=target.default_lang)
    return article, body


def section_of(path: str) -> str:
    parts = PurePosixPath(path).parts
    return "/".join(parts[1:-1]) if len(parts) > 2 else DEFAULT_SECTION
