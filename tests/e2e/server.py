"""Start ``chalice local`` on a free 127.0.0.1 port for a test, and stop it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_server(env: dict[str, str], timeout: float = 60.0) -> Iterator[str]:
    port = free_port()
    chalice = str(Path(sys.executable).parent / "chalice")
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            chalice,
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--stage",
            "local",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise RuntimeError(
                    f"chalice local exited with {proc.returncode}:\n{out}"
                )
            try:
                requests.get(f"{base}/v1/questionnaires", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"chalice local did not answer on {base}"
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
