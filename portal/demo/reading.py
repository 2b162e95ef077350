"""What the demo's visitors have read (issue 19): article views over the last two months, in both languages, so the
help center's "Popular articles" shows a list on a fresh installation instead of "No article has been read yet".
Added once, when no view was ever counted; real views then take over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.models import ArticleView

# (path, views over the two months): what a fibre provider's customers look up most.
READ = (
    ("en/connection/internet-not-working.md", 14),
    ("en/account/reset-your-password.md", 11),
    ("en/billing/read-your-invoice.md", 9),
    ("en/connection/slow-wifi.md", 7),
    ("en/devices/router-lights.md", 5),
    ("en/billing/change-your-plan.md", 3),
    ("es/connection/no-tengo-internet.md", 12),
    ("es/account/restablecer-contrasena.md", 10),
    ("es/billing/entender-tu-factura.md", 8),
    ("es/connection/wifi-lento.md", 6),
    ("es/devices/luces-del-router.md", 4),
    ("es/billing/cambiar-de-tarifa.md", 2),
)
DAYS = 60


def ensure_reading(session: Session, *, now: datetime) -> int:
    """Add the demo's views when none exist; returns how many were added."""
    if session.scalar(select(exists().select_from(ArticleView))):
        return 0
    views = []
    for rank, (path, count) in enumerate(READ):
        for n in range(count):
            # spread over the two months, a different hour for each: some fall in this month, some before
            ago = timedelta(days=(n * 7 + rank * 3) % DAYS, hours=(n * 5 + rank) % 24)
            views.append(ArticleView(path=path, lang=path[:2], visitor_id=f"demo-reader-{rank}-{n}",
                                     created_at=now - ago))
    session.add_all(views)
    return len(views)
