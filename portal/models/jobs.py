"""The background worker's bookkeeping: one row per periodic job, its lease and how its last run went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class JobRun(Base):
    """A periodic job (`portal/worker/jobs.py`). A worker runs it only while it holds the lease, taken with a
    conditional UPDATE (services.job_runs.take), so with a worker on each host a run happens once."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    # Past this moment the lease is free again even if its owner never gave it back (the process died).
    lease_until: Mapped[datetime | None] = mapped_column()
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    # The last run's error, None when it went well.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    next_run_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<JobRun {self.name} lease={self.lease_owner}>"
