"""``python -m chalicelib.cli releases publish|list|show`` on a real SQLite file, and the
scheduled job in app.py calling the same service."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.cli import main
from tests import orgs


@pytest.fixture
def cli_store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("STORE", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMM_SECRET", "s" * 40)
    return tmp_path


def submit_real(n: int) -> None:
    from chalicelib.container import Container
    from chalicelib.request_models import SubmissionIn

    c = Container()
    q = c.catalog.get("smm")
    for i in range(n):
        done = c.assessments.submit(
            SubmissionIn(answers=orgs.up_to_phase(q, 1 + i % 7))
        )
        assert done.created


def test_publish_list_show(cli_store: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["releases", "list", "real/smm/2.0.0"]) == 0
    assert "no release of real/smm/2.0.0 yet" in capsys.readouterr().out
    submit_real(6)
    assert main(["releases", "publish"]) == 0
    out = capsys.readouterr()
    assert "folding pending" in out.err
    line = next(x for x in out.out.splitlines() if x.startswith("real/smm/2.0.0: "))
    assert "published r" in line and "released" in line and "withheld" in line
    rid = line.split("published ")[1].split(" ")[0]
    # nothing changed: the same release stays
    assert main(["releases", "publish", "--grid", "real/smm/2.0.0"]) == 0
    again = capsys.readouterr().out
    assert f"real/smm/2.0.0: unchanged, still {rid}" in again
    assert main(["releases", "list", "real/smm/2.0.0"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith(rid)
    assert main(["releases", "show", "real/smm/2.0.0", "--released-only"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == rid and shown["k"] == 5
    everyone = next(c for c in shown["cells"] if c["cohort"] == "*#*#*")
    assert everyone["n"] == "5-9" and everyone["status"] == "released"
    assert all("changes" not in c for c in shown["cells"])  # internals stay inside
    assert main(["releases", "show", "real/smm/2.0.0", "r-nope"]) == 1
    assert "no release r-nope" in capsys.readouterr().err
    assert main(["releases", "list", "real-smm"]) == 2
    assert "source/questionnaire/version" in capsys.readouterr().err


def test_seeding_publishes_the_reference_release(
    cli_store: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed-reference", "--size", "300"]) == 0
    out = capsys.readouterr().out
    assert "reference release of smm@2.0.0: r" in out
    assert main(["releases", "list", "reference/smm/2.0.0"]) == 0
    assert capsys.readouterr().out.startswith("r")


def test_the_scheduled_job_publishes(cli_store: Any) -> None:
    import app as app_module
    from chalicelib.container import Container

    submit_real(5)
    c = Container()
    app_module.use_container(c)
    try:
        event = {  # what EventBridge sends on the rule's schedule
            "version": "0",
            "id": "1b9c0e1e-52c1-4d6e-9a3e-6c1f0d1f7a01",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-12-04T21:00:00Z",
            "region": "eu-central-1",
            "resources": ["arn:aws:events:eu-central-1:123456789012:rule/releases"],
            "detail": {},
        }
        done = app_module.publish_releases(event, None)
    finally:
        app_module.use_container(None)
    (grid,) = [g for g in done["grids"] if g["grid"]["source"] == "real"]
    assert grid["stored"] and grid["release"].startswith("r")
    assert done["folded"] == 0  # AGGREGATE_INLINE folded each submission already
