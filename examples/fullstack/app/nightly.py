"""The nightly job, a scheduled one-off task: ``python -m app.nightly [--days N]``.

It deletes notes older than the retention period and exits 0, so the schedule's run
shows as succeeded; any error exits non-zero, and the failed task is in the log.
Idempotent: a second run the same night deletes nothing more.
"""

import argparse
import sys

from app import migrate, notes

RETENTION_DAYS = 30


def run(days: int = RETENTION_DAYS) -> int:
    """Delete notes created more than ``days`` days ago; return how many were deleted."""
    return migrate.with_schema(lambda conn: notes.delete_older_than(conn, days))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.nightly", description=__doc__)
    parser.add_argument(
        "--days",
        type=int,
        default=RETENTION_DAYS,
        help=f"keep notes this many days (default {RETENTION_DAYS})",
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    deleted = run(args.days)
    # The task's log line is how an operator sees the scheduled run did its job. Deleted
    # notes may linger in the API's cache until their entries expire (a minute).
    sys.stdout.write(f"nightly: deleted {deleted} notes older than {args.days} days\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
