"""What both command lines (``chalicelib.cli`` and its ``export`` command in
``chalicelib.export_cli``) share: the progress bar on stderr and the run loop that turns a
failure into a one-line reason and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Progress = Callable[[int, int], None]


def progress(label: str) -> Progress:
    """A ``(done, total)`` callback drawing a bar on stderr (a newline when done)."""

    def report(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return report


def run(args: argparse.Namespace) -> int:
    """Run the parsed command (``args.func``): exit 2 with a one-line reason for invalid input
    (ValueError, OSError, a domain error naming its fields)."""
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from chalicelib.errors import DomainError

        if not isinstance(exc, DomainError):
            raise
        fields = "; ".join(f"{p}: {d}" for p, d in exc.errors)
        print(
            f"error: {exc.detail}" + (f" ({fields})" if fields else ""), file=sys.stderr
        )
        return 2
