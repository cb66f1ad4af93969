"""Statement budgets: count the SQL a request or a handler sends, so a test can hold a hot path to
the statements it needs (issue 22: a statement removed stays removed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event


@dataclass
class Statements:
    """The SQL statements a service sent while they were counted."""

    sql: list[str] = field(default_factory=list)


@contextlib.contextmanager
def counted_statements(engine: Any) -> Iterator[Statements]:
    """Count the statements ``engine`` (a sync engine) sends from the calling asyncio task: a
    request through the in-process client and a handler called in the test run in it; the outbox
    relay, the consumers and the jobs run in tasks of their own and are not counted."""
    seen = Statements()
    task = asyncio.current_task()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if asyncio.current_task() is task:
            seen.sql.append(statement)

    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
