"""Roadmap cost (docs/ROADMAP.md): ``roadmap.roadmap`` re-scores the answers once per chosen
step, so its time grows with the steps a target needs. Prints the median time of the pure
function for three organisations against the hardest target (phase 7, enlightenment, every
dimension 100) and an easy one, and of the XLSX and PDF roadmap files built from it.

    .venv/bin/python bench/roadmap.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib import roadmap as rm
from chalicelib import scoring
from chalicelib.exports.model import Labels
from chalicelib.exports.roadmap_export import roadmap_file
from chalicelib.exports.roadmap_report import build_roadmap_report
from chalicelib.questionnaire import get_catalog
from tests import orgs

TODAY = date(2026, 12, 3)


def median_ms(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    q = get_catalog(str(root / "questionnaires")).get("smm")
    hard = rm.Target(
        phase=7, tier="enlightenment", dimensions={d.id: 100 for d in q.dimensions}
    )
    easy = rm.Target(phase=3, tier="safety")
    profiles = {
        "worst answers": orgs.build(q, orgs.worst),
        "all don't know": orgs.build(q, orgs.dont_know),
        "middling": orgs.middling(q),
    }
    print(f"{'organisation':16} {'target':6} {'steps':>5} {'blocking':>8} {'ms':>8}")
    for name, answers in profiles.items():
        for tname, target in (("hard", hard), ("easy", easy)):
            steps = rm.roadmap(q, answers, target, today=TODAY)
            ms = median_ms(
                lambda a=answers, t=target: rm.roadmap(q, a, t, today=TODAY), 15
            )
            blocking = sum(s.kind == rm.BLOCKING for s in steps)
            print(f"{name:16} {tname:6} {len(steps):5d} {blocking:8d} {ms:8.1f}")
    answers = profiles["worst answers"]
    lab = Labels("de")
    steps = rm.roadmap(q, answers, hard, language="de", today=TODAY)
    result = scoring.score(q, answers, "de")
    rounds = [rm.Round(f"20{20 + i}-03-01", q, result, 50.0) for i in range(6)]
    report = build_roadmap_report(
        q,
        result,
        hard,
        steps,
        lab,
        name="Bench GmbH",
        completed="2026-12-01",
        today=TODAY.isoformat(),
        history=rm.history(rounds),
    )
    now = datetime(2026, 12, 3, tzinfo=UTC)
    for fmt in ("xlsx", "pdf"):
        size = len(roadmap_file(report, fmt, lab, created=now).body)
        ms = median_ms(lambda f=fmt: roadmap_file(report, f, lab, created=now), 5)
        print(
            f"file {fmt}: {len(steps)} steps, 6 rounds: {ms:.0f} ms, {size / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
