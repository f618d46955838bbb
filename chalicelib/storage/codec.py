"""The stored encodings both adapters share: records as JSON bodies, counters by name.

Records (chalicelib/records.py) are stored as one JSON ``body`` (sorted keys) in a SQLite row
or a DynamoDB item; ``*_to_json``/``*_from_json`` are the only (de)serialisers, so the two
stores hold the same bytes and read records of older layouts the same way.

Counter names are typed values with an exact text form, which existing SQLite files and
DynamoDB items hold and must keep (tests/unit/test_codec.py pins them):

- ``count``: submissions in the item;
- ``month#<YYYY-MM>`` (:class:`MonthCounter`): submissions per month;
- ``m#<metric>#<value>`` (:class:`CounterName`): one histogram bin, as the first layout of
  both stores wrote it (SQLite's ``aggregates`` table, DynamoDB attributes); read, folded in;
- ``h#<metric>#<word>`` (:class:`WordName`): one packed histogram word of the DynamoDB
  adapter (chalicelib/storage/packed.py).

Cell aggregates of the stream fold (issue 15, ``aggregation.CohortState``) are one JSON
object per (grid, cell): ``cohort_state_to_dict``/``cohort_state_from_dict`` (short names:
``n`` count, ``h`` dense histograms, ``mo`` months, ``ch`` changes, ``rm`` removals, ``ap``
the per-shard checkpoints), and ``contribution_image`` is the stream image of a pre-summed
``Contribution`` (reference seeding, which stores no assessment records).

Pure: no boto3, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from chalicelib.aggregation import CohortState
from chalicelib.cohorts import ALL, Cohort
from chalicelib.records import (
    AssessmentRecord,
    Contribution,
    Delivery,
    Deltas,
    Draft,
    PartnerKey,
    Webhook,
    WebhookSecret,
    metric_bins,
)

COUNT = "count"
MONTH_PREFIX = "month#"
BIN_PREFIX = "m#"
WORD_PREFIX = "h#"


def _split(name: str, prefix: str) -> tuple[str, int]:
    """``<prefix><metric>#<int>`` -> ``(metric, int)``; ValueError for anything else."""
    if not name.startswith(prefix):
        raise ValueError(f"not a {prefix}... counter: {name!r}")
    metric, sep, number = name[len(prefix) :].rpartition("#")
    if not sep or not metric or "#" in metric or not number.isdigit():
        raise ValueError(f"malformed counter name {name!r}")
    return metric, int(number)


@dataclass(frozen=True)
class MonthCounter:
    """Submissions of one month: ``month#2026-11``."""

    month: str

    def encode(self) -> str:
        return f"{MONTH_PREFIX}{self.month}"

    @classmethod
    def decode(cls, name: str) -> MonthCounter:
        if not name.startswith(MONTH_PREFIX) or len(name) == len(MONTH_PREFIX):
            raise ValueError(f"not a month counter: {name!r}")
        return cls(name[len(MONTH_PREFIX) :])

    @staticmethod
    def matches(name: str) -> bool:
        return name.startswith(MONTH_PREFIX)


@dataclass(frozen=True)
class CounterName:
    """One histogram bin: submissions whose ``metric`` scored ``value`` (``m#overall#57``)."""

    metric: str
    value: int

    def encode(self) -> str:
        return f"{BIN_PREFIX}{self.metric}#{self.value}"

    @classmethod
    def decode(cls, name: str) -> CounterName:
        return cls(*_split(name, BIN_PREFIX))

    @staticmethod
    def matches(name: str) -> bool:
        return name.startswith(BIN_PREFIX)


@dataclass(frozen=True)
class WordName:
    """Packed histogram word ``word`` of ``metric`` (``h#overall#9``; packed.py)."""

    metric: str
    word: int

    def encode(self) -> str:
        return f"{WORD_PREFIX}{self.metric}#{self.word}"

    @classmethod
    def decode(cls, name: str) -> WordName:
        return cls(*_split(name, WORD_PREFIX))

    @staticmethod
    def matches(name: str) -> bool:
        return name.startswith(WORD_PREFIX)


def deltas_to_counters(deltas: Deltas) -> dict[str, int]:
    """Deltas as per-bin named counters (``count``, ``month#…``, ``m#…``): the first
    layout's attributes."""
    out = {COUNT: deltas.count}
    for month, d in deltas.months.items():
        out[MonthCounter(month).encode()] = d
    for metric, h in deltas.bins.items():
        for value, d in h.items():
            out[CounterName(metric, value).encode()] = d
    return out


def deltas_from_counters(
    counters: Iterable[tuple[str, int]], *, strict: bool = True
) -> Deltas:
    """Per-bin named counters (as ``deltas_to_counters`` writes them) summed into Deltas.
    Other names raise ValueError, or with ``strict=False`` are skipped (a DynamoDB item's
    other numeric attributes)."""
    out = Deltas()
    for name, value in counters:
        if name == COUNT:
            out.count += value
        elif MonthCounter.matches(name):
            month = MonthCounter.decode(name).month
            out.months[month] = out.months.get(month, 0) + value
        elif CounterName.matches(name):
            c = CounterName.decode(name)
            h = out.bins.setdefault(c.metric, {})
            h[c.value] = h.get(c.value, 0) + value
        elif strict:
            raise ValueError(f"unknown aggregate counter {name!r}")
    return out


# --- record bodies ----------------------------------------------------------------------------
_RECORD_FIELDS = fields(AssessmentRecord)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def record_to_json(rec: AssessmentRecord) -> str:
    # a shallow field dict serialises exactly like asdict(rec), without its deep copy
    return _dumps({f.name: getattr(rec, f.name) for f in _RECORD_FIELDS})


def record_from_json(body: str) -> AssessmentRecord:
    d = json.loads(body)
    d["exclusion_reasons"] = tuple(d["exclusion_reasons"])
    return AssessmentRecord(**d)


def draft_to_json(draft: Draft) -> str:
    return _dumps(asdict(draft))


def draft_from_json(body: str) -> Draft:
    return Draft(**json.loads(body))


def partner_key_to_json(key: PartnerKey) -> str:
    return _dumps(asdict(key))


def partner_key_from_json(body: str) -> PartnerKey:
    """Records written before webhooks moved to the partner carry an unused
    ``webhook_url``: ignored."""
    d = json.loads(body)
    d.pop("webhook_url", None)
    d["scopes"] = tuple(d["scopes"])
    d["origins"] = tuple(d["origins"])
    return PartnerKey(**d)


def webhook_to_json(hook: Webhook) -> str:
    return _dumps(asdict(hook))


def webhook_from_json(body: str) -> Webhook:
    """An endpoint, old records too (no ``secrets`` before rotation existed)."""
    d = json.loads(body)
    d["secrets"] = tuple(WebhookSecret(**x) for x in d.get("secrets", ()))
    return Webhook(**d)


def delivery_to_json(delivery: Delivery) -> str:
    return _dumps(asdict(delivery))


def delivery_from_json(body: str) -> Delivery:
    return Delivery(**json.loads(body))


def branding_to_json(branding: dict[str, Any]) -> str:
    return _dumps(branding)


def branding_from_json(body: str) -> dict[str, Any]:
    return dict(json.loads(body))


# --- cell aggregates (issue 15) ---------------------------------------------------------------
def cohort_state_to_dict(state: CohortState) -> dict[str, Any]:
    """A cell aggregate as a JSON-ready object (months with a zero count are dropped; a
    histogram stays dense, ``metric_bins(metric)`` counts, so every cell has the same size)."""
    return {
        "n": state.count,
        "h": {m: list(h) for m, h in sorted(state.bins.items())},
        "mo": {mo: v for mo, v in sorted(state.months.items()) if v},
        "ch": state.changes,
        "rm": state.removals,
        "ap": dict(sorted(state.applied.items())),
    }


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"cell aggregate: {name} must be an integer, not {value!r}")
    return value


def cohort_state_from_dict(d: Any) -> CohortState:
    """The inverse of ``cohort_state_to_dict``; TypeError or ValueError for anything it
    did not write."""
    if not isinstance(d, dict):
        raise TypeError("cell aggregate must be an object")
    bins: dict[str, list[int]] = {}
    for m, h in d.get("h", {}).items():
        if not isinstance(h, list) or len(h) != metric_bins(m):
            raise ValueError(
                f"cell aggregate: histogram {m} must have {metric_bins(m)} bins"
            )
        if not set(map(type, h)) <= {int}:  # exact ints (no bool), checked in C
            raise TypeError(f"cell aggregate: histogram {m} must hold integers")
        bins[m] = h
    return CohortState(
        count=_count(d.get("n"), "n"),
        bins=bins,
        months={mo: _count(v, f"mo.{mo}") for mo, v in d.get("mo", {}).items()},
        changes=_count(d.get("ch", 0), "ch"),
        removals=_count(d.get("rm", 0), "rm"),
        applied={s: _count(v, f"ap.{s}") for s, v in d.get("ap", {}).items()},
    )


def cohort_state_to_json(state: CohortState) -> str:
    return json.dumps(cohort_state_to_dict(state), separators=(",", ":"))


def cohort_state_from_json(body: str) -> CohortState:
    return cohort_state_from_dict(json.loads(body))


def contribution_image(con: Contribution, assessment_id: str) -> dict[str, Any]:
    """The stream image (``aggregation`` module docstring) of a pre-summed contribution: its
    cohort is the most specific of its roll-up keys (shard suffixes dropped), ``inc`` is
    true (only included assessments have contributions)."""
    cohorts = [Cohort.from_key(k) for k in con.cohorts]
    cohort = [
        next((getattr(c, dim) for c in cohorts if getattr(c, dim) != ALL), ALL)
        for dim in ("industry", "size", "region")
    ]
    return {
        "a": assessment_id,
        "src": con.source,
        "q": con.questionnaire_id,
        "v": con.version,
        "c": cohort,
        "p": list(con.populations),
        "m": dict(con.metrics),
        "mo": con.month,
        "inc": True,
    }
