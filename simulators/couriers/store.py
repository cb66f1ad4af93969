"""The couriers' book of parcels: a SQLite file, so a restart resumes every journey.

One process plays every carrier and one loop sends the reports, so there is no claiming: what
the loop read is sent before it reads again. Times are Unix seconds.

The standard library's ``sqlite3`` runs on the event loop's own thread, as the services' embedded
engine does (libs/owkernel/sqlite_inline.py): the file is this process's alone, in WAL mode with
``synchronous=NORMAL`` (a commit appends to the log without an fsync), so a statement takes
microseconds, while aiosqlite's hand-off of every call to a worker thread and back cost far more
CPU than the statements themselves. Every query touches a few rows by key or through the due index. NORMAL may lose the
last commits on a power cut (never on a crash or restart of the process); a report lost so is
sent again under the same webhook id, which the receiver takes as a replay.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS parcels (
    carrier TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    tracking_no TEXT NOT NULL UNIQUE,
    plan TEXT NOT NULL,
    next_index INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open',
    last_error TEXT,
    PRIMARY KEY (carrier, idempotency_key)
);
CREATE INDEX IF NOT EXISTS ix_parcels_due ON parcels (state, due_at);
"""
# state: open (reports left to send), done, cancelled, gave_up (the webhook never took one).


@dataclass(frozen=True)
class Parcel:
    """One booked parcel and where its journey stands."""

    carrier: str
    tracking_no: str
    plan: tuple[str, ...]
    next_index: int
    attempts: int
    state: str
    last_error: str | None

    @property
    def status(self) -> str:
        """The last status reported (``created`` before the first)."""
        return self.plan[self.next_index - 1] if self.next_index else "created"


_COLUMNS = "carrier, tracking_no, plan, next_index, attempts, state, last_error"


def _parcel(row: tuple[Any, ...]) -> Parcel:
    return Parcel(
        carrier=row[0],
        tracking_no=row[1],
        plan=tuple(row[2].split(",")),
        next_index=row[3],
        attempts=row[4],
        state=row[5],
        last_error=row[6],
    )


class Store:
    """Every query of the parcels table (async so callers need not know it never waits)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: str) -> Store:
        """Open (and create if new) the book at ``path``."""
        # The default (legacy) transaction handling, as aiosqlite had it: a write opens a
        # transaction that commit() ends; a read runs on its own.
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(SCHEMA)
        connection.commit()
        return cls(connection)

    async def close(self) -> None:
        """Close the file."""
        self._db.close()

    async def book(
        self, *, carrier: str, key: str, tracking_no: str, plan: tuple[str, ...], first_due: float
    ) -> Parcel:
        """Book a parcel under an idempotency key; the same key again returns the first booking."""
        self._db.execute(
            "INSERT INTO parcels (carrier, idempotency_key, tracking_no, plan, due_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (carrier, idempotency_key) DO NOTHING",
            (carrier, key, tracking_no, ",".join(plan), first_due),
        )
        self._db.commit()
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM parcels WHERE carrier = ? AND idempotency_key = ?", (carrier, key)
        ).fetchone()
        assert row is not None
        return _parcel(row)

    async def get(self, *, carrier: str, tracking_no: str) -> Parcel | None:
        """A carrier's parcel by tracking number."""
        return self._get(carrier=carrier, tracking_no=tracking_no)

    def _get(self, *, carrier: str, tracking_no: str) -> Parcel | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM parcels WHERE carrier = ? AND tracking_no = ?", (carrier, tracking_no)
        ).fetchone()
        return _parcel(row) if row is not None else None

    async def cancel(self, *, carrier: str, tracking_no: str) -> bool:
        """Cancel a parcel nobody picked up yet; True if it is (now or already) cancelled."""
        self._db.execute(
            "UPDATE parcels SET state = 'cancelled' WHERE carrier = ? AND tracking_no = ? "
            "AND state = 'open' AND next_index = 0",
            (carrier, tracking_no),
        )
        self._db.commit()
        parcel = self._get(carrier=carrier, tracking_no=tracking_no)
        return parcel is not None and parcel.state == "cancelled"

    async def due(self, *, now: float, limit: int) -> list[Parcel]:
        """Open parcels whose next report is due, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM parcels WHERE state = 'open' AND due_at <= ? ORDER BY due_at LIMIT ?",
            (now, limit),
        ).fetchall()
        return [_parcel(row) for row in rows]

    async def next_due_at(self) -> float | None:
        """When the earliest open parcel is due."""
        row = self._db.execute("SELECT MIN(due_at) FROM parcels WHERE state = 'open'").fetchone()
        return row[0] if row is not None else None

    async def record(self, outcomes: list[tuple[Parcel, str | None, float]]) -> None:
        """Write a round's outcomes: (parcel, error or None when the webhook took it, next due time).

        A delivered report moves the parcel on (done after its last); a failed one counts an
        attempt, and the parcel gives up once it has no attempts left (the caller says so with
        a due time of -1).
        """
        for parcel, error, due_at in outcomes:
            if error is None:
                last = parcel.next_index + 1 >= len(parcel.plan)
                self._db.execute(
                    "UPDATE parcels SET next_index = next_index + 1, attempts = 0, last_error = NULL, "
                    "state = ?, due_at = ? WHERE carrier = ? AND tracking_no = ? AND state = 'open'",
                    ("done" if last else "open", due_at, parcel.carrier, parcel.tracking_no),
                )
            else:
                self._db.execute(
                    "UPDATE parcels SET attempts = attempts + 1, last_error = ?, state = ?, due_at = ? "
                    "WHERE carrier = ? AND tracking_no = ? AND state = 'open'",
                    (error[:2000], "gave_up" if due_at < 0 else "open", due_at, parcel.carrier, parcel.tracking_no),
                )
        self._db.commit()
