"""Contract fuzzing: schemathesis generates requests from /v1/openapi.json against the live
local server, with a partner key holding every scope, over every operation (public and
partner) and with every check (tests/e2e/fuzz.py, also ``make fuzz``): no 5xx, responses
conform to the document, schema-valid requests are accepted and invalid ones refused,
unsupported methods are 405s, and authentication is enforced. Bounded: a fixed number of
examples per operation (about 1,800 test cases, under two minutes on 2 cores)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.fuzz import EXAMPLES_PER_OPERATION, run


def test_schemathesis_finds_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    outcome = run(data, tmp_path / "report", EXAMPLES_PER_OPERATION)
    log = Path("artifacts/schemathesis.log")
    log.parent.mkdir(exist_ok=True)
    log.write_text(outcome.output, encoding="utf-8")
    assert outcome.returncode == 0, outcome.output[-8000:]
    assert "failed" not in outcome.output.split("Test cases:")[-1]
