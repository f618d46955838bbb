"""`make dev`: ``chalice local`` that restarts when the code changes, but not when the app
writes its data.

Chalice's autoreloader polls every file under the project (its stat watcher; watchdog is not
installed) and restarts on any change, so each write to ``data/`` (the SQLite file, its WAL)
restarted the server and dropped the requests in between. This wrapper starts the same
command with the watcher's directory walk pruned of the data directory (``DATA_DIR``, default
``data/``) and of build output and caches. Arguments are those of ``chalice local``.

    .venv/bin/python scripts/dev_server.py --host 127.0.0.1 --port 8000 --stage local
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# never code: generated, cached or written at run time
IGNORED = {
    ".git",
    ".hypothesis",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".schemathesis",
    "__pycache__",
    "artifacts",
    "build",
    "data",
    "node_modules",
}


def main() -> None:
    from chalice.cli import cli, reloader
    from chalice.cli.filewatch import stat
    from chalice.utils import OSUtils

    data_dir = Path(os.environ.get("DATA_DIR") or ROOT / "data").resolve()

    class CodeOnlyOSUtils(OSUtils):  # type: ignore[misc]
        def walk(
            self, path: str, followlinks: bool = False
        ) -> Iterator[tuple[str, list[str], list[str]]]:
            for root, dirs, files in os.walk(path, followlinks=followlinks):
                dirs[:] = [
                    d
                    for d in dirs
                    if d not in IGNORED and Path(root, d).resolve() != data_dir
                ]
                yield root, dirs, files

    original_init = stat.StatFileWatcher.__init__

    def init(self: object, osutils: object = None) -> None:
        original_init(self, osutils or CodeOnlyOSUtils())

    stat.StatFileWatcher.__init__ = init
    reloader.get_best_worker_process = lambda: stat.StatWorkerProcess
    args = sys.argv[1:]
    # the reloader's parent process runs sys.argv as its worker: this script, same arguments
    sys.argv = [sys.executable, str(Path(__file__).resolve()), *args]
    cli.main(args=["local", "--autoreload", *args], prog_name="chalice", obj={})


if __name__ == "__main__":
    main()
