"""Sign-in rate limits: failed sign-ins per client address and per email in a sliding
window, counted in the database so every server process on it applies one limit."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select

from handloop.errors import Throttling
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.tables import sign_in_failures

WINDOW_SECONDS = 15 * 60


def limit_keys(address: str, email: str) -> list[str]:
    return [f"ip:{address}"[:300], f"email:{email.strip().lower()}"[:300]]


class SignInLimits:
    def __init__(self, db: Database, clock: Clock, attempts: int) -> None:
        self._db = db
        self._clock = clock
        self._attempts = attempts
        self._window_us = WINDOW_SECONDS * 1_000_000

    async def check(self, address: str, email: str) -> None:
        """Refuse (Throttling) when the address or the email failed too often lately."""
        now = self._clock()
        keys = limit_keys(address, email)

        def op(conn: Connection) -> list[tuple[int, int]]:
            rows = conn.execute(
                select(
                    func.count().label("failures"),
                    func.min(sign_in_failures.c.at).label("oldest"),
                )
                .where(
                    sign_in_failures.c.key.in_(keys),
                    sign_in_failures.c.at > now - self._window_us,
                )
                .group_by(sign_in_failures.c.key)
            ).all()
            return [(int(row.failures), int(row.oldest)) for row in rows]

        for count, oldest in await self._db.read(op):
            if count >= self._attempts:
                wait = max(1, -(-(oldest + self._window_us - now) // 60_000_000))  # ceil
                raise Throttling(f"Too many failed sign-ins; try again in {wait} minute(s).")

    async def failed(self, address: str, email: str) -> None:
        """Count a failed sign-in against the address and the email."""
        now = self._clock()

        def op(conn: Connection) -> None:
            conn.execute(
                delete(sign_in_failures).where(sign_in_failures.c.at <= now - self._window_us)
            )
            conn.execute(
                insert(sign_in_failures),
                [{"key": key, "at": now} for key in limit_keys(address, email)],
            )

        await self._db.write(op)
