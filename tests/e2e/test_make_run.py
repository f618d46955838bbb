"""`make run` serves steadily: the server it starts keeps answering every request while
submissions write to data/ (chalice local's autoreloader used to restart on each of those
writes and drop the requests in between). `make dev` keeps reloading on code changes only.

The commands are taken from the Makefile itself (``make -n``), and run in a copy of the
project in a temporary directory, so data/ is inside the directory chalice watches, exactly
as for `make run` in a checkout, without touching this checkout's data/."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests import orgs
from tests.e2e.server import ROOT, free_port, stop

BIN = ROOT / ".venv" / "bin"


def make_command(target: str, port: int) -> list[str]:
    """The line of ``target``'s recipe that starts the server, as make would run it."""
    out = subprocess.run(
        ["make", "-s", "-n", target, f"BIN={BIN}", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    lines = [
        line
        for line in out.splitlines()
        if "chalice local" in line or "dev_server" in line
    ]
    assert len(lines) == 1, out
    return shlex.split(lines[0])


def project_copy(dest: Path) -> Path:
    dest.mkdir()
    for name in ("app.py", ".chalice", "chalicelib", "scripts"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(src, dest / name)
    return dest


@contextmanager
def started(cmd: list[str], cwd: Path, port: int, log: Path) -> Iterator[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "STORE": "sqlite"}
    env.pop("DATA_DIR", None)  # the default: data/ inside the project
    env["QUESTIONNAIRE_DIR"] = str(ROOT / "questionnaires")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text(errors="replace")
                try:
                    requests.get(f"{base}/v1/questionnaires", timeout=5)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, log.read_text(errors="replace")
                    time.sleep(0.2)
            yield base
        finally:
            stop(proc)


def traffic(base: str, answers: dict[str, str], seconds: float = 8.0) -> dict[str, int]:
    """Submissions (each writes data/) in one thread, GETs in another, for ``seconds``:
    counts of answered and failed requests."""
    stop = time.monotonic() + seconds
    counts = {"submitted": 0, "submit_failed": 0, "got": 0, "get_failed": 0}

    def submit() -> None:
        while time.monotonic() < stop:
            try:
                r = requests.post(
                    f"{base}/v1/assessments", json={"answers": answers}, timeout=5
                )
                counts["submitted" if r.status_code == 201 else "submit_failed"] += 1
            except requests.RequestException:
                counts["submit_failed"] += 1
            time.sleep(0.4)

    writer = threading.Thread(target=submit)
    writer.start()
    while time.monotonic() < stop:
        try:
            r = requests.get(f"{base}/v1/questionnaires/smm/latest", timeout=5)
            counts["got" if r.status_code == 200 else "get_failed"] += 1
        except requests.RequestException:
            counts["get_failed"] += 1
        time.sleep(0.2)
    writer.join(timeout=30)
    return counts


def test_make_run_answers_every_request_while_submissions_write_data(
    tmp_path, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    project = project_copy(tmp_path / "project")
    log = tmp_path / "server.log"
    with started(make_command("run", port), project, port, log) as base:
        counts = traffic(base, orgs.middling(questionnaire))
    assert (project / "data" / "smm.sqlite3").exists()  # the writes went to data/
    assert counts["submitted"] >= 5 and counts["got"] >= 20, counts
    assert counts["submit_failed"] == counts["get_failed"] == 0, counts
    assert "Restarting" not in log.read_text(errors="replace")


def test_make_dev_reloads_on_code_changes_but_not_on_data_writes(
    tmp_path, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    project = project_copy(tmp_path / "project")
    log = tmp_path / "server.log"
    with started(make_command("dev", port), project, port, log) as base:
        counts = traffic(base, orgs.middling(questionnaire), seconds=5.0)
        assert counts["submit_failed"] == counts["get_failed"] == 0, counts
        assert "Restarting" not in log.read_text(errors="replace")
        (project / "app.py").touch()  # a code change
        os.utime(project / "app.py", (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 30
        while "Restarting" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "no reload after editing app.py"
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while True:  # and it serves again
            try:
                if requests.get(f"{base}/v1/questionnaires", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
