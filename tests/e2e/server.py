"""Start ``chalice local`` on a free 127.0.0.1 port for a test, and stop it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[Any]) -> None:
    """End a server started in its own process group: SIGTERM, then SIGKILL after 10 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def local_server(env: dict[str, str], timeout: float = 60.0) -> Iterator[str]:
    port = free_port()
    chalice = str(Path(sys.executable).parent / "chalice")
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    # The server logs every request: a pipe nobody reads would fill up and block it, so the
    # log goes to a file (shown when the server fails to start).
    fd, name = tempfile.mkstemp(prefix=f"chalice-local-{port}-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            chalice,
            "local",
            "--no-autoreload",  # a file change must not drop in-flight requests
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--stage",
            "local",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = log_path.read_text(errors="replace")
                raise RuntimeError(
                    f"chalice local exited with {proc.returncode}:\n{out}"
                )
            try:
                requests.get(f"{base}/v1/questionnaires", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"chalice local did not answer on {base}"
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        stop(proc)
        log.close()
        log_path.unlink(missing_ok=True)
