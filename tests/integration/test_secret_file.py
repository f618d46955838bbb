"""The signing secret: processes starting together on a new DATA_DIR agree on one complete
secret (never an empty or partial one), and an empty or short secret is refused wherever it
comes from (SMM_SECRET or the file)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chalicelib.config import MIN_SECRET_LENGTH, Settings
from tests.conftest import ROOT

# Each child imports the settings module, waits for the shared start signal (so all of them
# reach the secret file within the same fraction of a millisecond), then reads its secret.
CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from chalicelib.config import Settings
go = sys.argv[2]
deadline = time.monotonic() + 30
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no start signal")
try:
    print(json.dumps({"secret": Settings.from_env().secret.decode()}))
except ValueError as exc:
    print(json.dumps({"error": str(exc)}))
"""

PROCESSES = 8
TRIALS = 20


def _env(data_dir: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "STORE": "sqlite", "DATA_DIR": str(data_dir)}


def test_processes_starting_together_agree_on_one_complete_secret(
    tmp_path: Path,
) -> None:
    bad: list[tuple[int, list[str]]] = []
    started = time.monotonic()
    for trial in range(TRIALS):
        # a new directory each trial: nobody has written its secret yet
        data_dir = tmp_path / f"data{trial}"
        go = tmp_path / f"go{trial}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(ROOT), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(data_dir),
            )
            for _ in range(PROCESSES)
        ]
        time.sleep(0.3)  # let every child finish its imports and wait at the line
        go.touch()
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            outs.append(json.loads(out.strip().splitlines()[-1]))
        secrets = {o.get("secret", "") for o in outs}
        errors = [o["error"] for o in outs if "error" in o]
        stored = (data_dir / "secret.key").read_text().strip()
        if errors or len(secrets) != 1 or secrets != {stored}:
            bad.append((trial, sorted(secrets) + errors))
        assert len(stored) >= MIN_SECRET_LENGTH
        assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]
    assert not bad, f"{len(bad)} of {TRIALS} trials disagreed: {bad[:3]}"
    assert time.monotonic() - started < 240


@pytest.mark.parametrize("value", ["", "   ", "short", "x" * (MIN_SECRET_LENGTH - 1)])
def test_empty_or_short_smm_secret_is_refused(monkeypatch, value: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMM_SECRET", value)
    monkeypatch.setenv("STORE", "dynamodb")
    with pytest.raises(ValueError, match="SMM_SECRET"):
        Settings.from_env()


def test_long_enough_smm_secret_is_used(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMM_SECRET", "k" * MIN_SECRET_LENGTH)
    monkeypatch.setenv("STORE", "dynamodb")
    assert Settings.from_env().secret == b"k" * MIN_SECRET_LENGTH


@pytest.mark.parametrize("content", ["", "\n", "abc"])
def test_empty_or_short_secret_file_is_refused(
    monkeypatch, tmp_path: Path, content: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SMM_SECRET", raising=False)
    monkeypatch.setenv("STORE", "sqlite")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    (tmp_path / "secret.key").write_text(content)
    with pytest.raises(ValueError, match="secret.key"):
        Settings.from_env()


def test_make_run_stops_at_start_on_a_short_secret(tmp_path: Path) -> None:
    """`make run` seeds the reference cohort before it starts the server: a short
    SMM_SECRET ends that step with a one-line error, not a traceback at the first request."""
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "seed-reference", "--size", "5"],
        cwd=ROOT,
        env={**_env(tmp_path), "SMM_SECRET": "short"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: SMM_SECRET"), proc.stderr
    assert "Traceback" not in proc.stderr
