"""The embedded store keeps what it accepted across a restart (a new process opening the file)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_assessment_survives_reopen(
    tmp_path, catalog, settings, complete_answers
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.models import SubmissionIn
    from chalicelib.service import AssessmentService
    from chalicelib.storage.sqlite import SqliteStore

    path = str(tmp_path / "durable.sqlite3")
    s1 = SqliteStore(path)
    done = AssessmentService(s1, catalog, settings).submit(
        SubmissionIn(answers=complete_answers)
    )
    s1.close()
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from chalicelib.storage.sqlite import SqliteStore\n"
        f"r = SqliteStore({path!r}).get_assessment({done.body['id']!r})\n"
        "print(r.metrics['overall'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert int(out.stdout.strip()) == done.body["result"]["overall"]
