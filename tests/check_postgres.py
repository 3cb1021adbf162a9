"""Say clearly, before the suite starts, when PostgreSQL is not reachable.

What it does: connects to the test server (TINDAKLANJUT_TEST_POSTGRES, default
postgresql://postgres@127.0.0.1:5432/postgres) and exits 2 with one line on
how to start it, instead of letting every database test fail with a traceback.
Needs: the project's virtualenv (asyncpg).
Run:   .venv/bin/python tests/check_postgres.py   (`make test` does)
"""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg

DSN = os.environ.get("TINDAKLANJUT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


async def reachable() -> bool:
    try:
        connection = await asyncpg.connect(DSN, timeout=5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    if not asyncio.run(reachable()):
        sys.stderr.write(f"PostgreSQL is not reachable at {DSN}; every database test runs on it too. Start it "
                         "(on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
                         "or set TINDAKLANJUT_TEST_POSTGRES.\n")
        sys.exit(2)
