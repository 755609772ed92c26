"""Readiness checks, shared by ``GET /readyz`` and ``oro-connector check``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from connector.db.migrate import current_revisions, head_revisions


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_database(engine: Engine) -> list[CheckResult]:
    """Is the database reachable, and are its migrations at the head revision?"""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(exc.__cause__ or exc).splitlines()[0]
        return [CheckResult("database", False, f"cannot reach the database: {reason}")]
    results = [CheckResult("database", True, f"reachable ({engine.dialect.name})")]
    current, heads = current_revisions(engine), head_revisions()
    if current == heads:
        results.append(CheckResult("migrations", True, f"at {', '.join(sorted(heads))}"))
    else:
        shown = ", ".join(sorted(current)) or "none applied"
        results.append(
            CheckResult(
                "migrations",
                False,
                f"database at {shown}, code expects {', '.join(sorted(heads))}: "
                "run `oro-connector db upgrade`",
            )
        )
    return results
