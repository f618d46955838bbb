"""Partner-facing lists with cursor pagination (chalicelib/pagination.py): the partner's
assessments (with filters), its webhook deliveries and its keys, each newest first.

Every list is read in the calling partner's own partition or index, and every cursor is
bound to the partner, the list and the filters, so one partner can never page into
another's data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from chalicelib import pagination
from chalicelib.errors import InvalidInput
from chalicelib.records import AssessmentQuery, AssessmentRecord
from chalicelib.render import assessment_header
from chalicelib.storage import Store

T = TypeVar("T")

ASSESSMENT_FILTERS = ("since", "until", "questionnaire", "version", "phase", "included")


def _instant(name: str, raw: str) -> str:
    """An ISO 8601 date or date-time (UTC unless it names an offset), normalised to the
    stored ``created_at`` form so that strings compare as times."""
    try:
        value = datetime.fromisoformat(raw)  # Python 3.11 accepts Z
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO 8601 date or date-time",
            [(f"/query/{name}", f"{raw!r} is not like 2026-11-23T10:00:00Z")],
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def assessment_filters(
    params: Mapping[str, str], installed: Mapping[str, set[str]] | None = None
) -> dict[str, Any]:
    """The validated filters of ``GET /v1/partner/assessments`` (absent ones omitted);
    ``installed`` lists the questionnaire ids and versions a filter may name (exactly, like
    every parameter: an unknown one is a 422, not an empty page)."""
    out: dict[str, Any] = {}
    for name in ("since", "until"):
        if params.get(name) is not None:
            out[name] = _instant(name, params[name])
    if "since" in out and "until" in out and out["since"] >= out["until"]:
        raise InvalidInput(
            "until must be after since", [("/query/until", "not after since")]
        )
    for name in ("questionnaire", "version"):
        raw = params.get(name)
        if raw is not None:
            if not 1 <= len(raw) <= 64:
                raise InvalidInput(
                    f"{name} must have 1 to 64 characters",
                    [(f"/query/{name}", "1 to 64 characters")],
                )
            if installed is not None and raw not in installed[name]:
                raise InvalidInput(
                    f"no installed questionnaire has the {name} {raw!r}",
                    [
                        (
                            f"/query/{name}",
                            f"one of {', '.join(sorted(installed[name]))}",
                        )
                    ],
                )
            out[name] = raw
    phase = params.get("phase")
    if phase is not None:
        if phase not in {str(p) for p in range(8)}:
            raise InvalidInput(
                "phase must be an integer 0..7",
                [("/query/phase", f"{phase!r} is not 0..7")],
            )
        out["phase"] = int(phase)
    included = params.get("included")
    if included is not None:
        if included not in ("true", "false"):
            raise InvalidInput(
                "included must be true or false",
                [("/query/included", f"{included!r} is not true or false")],
            )
        out["included"] = included == "true"
    return out


def assessment_summary(rec: AssessmentRecord) -> dict[str, Any]:
    """One list item: what a partner needs to find an assessment, from the stored record
    (no answers, no token; fetch ``/v1/partner/assessments/{id}`` for the full result)."""
    return {
        "id": rec.id,
        **assessment_header(rec, rec.language),
        "phase": rec.result.get("phase"),
        "pyramid_level": rec.metrics.get("pyramid_level"),
        "overall": rec.result.get("overall"),
    }


class PartnerLists:
    def __init__(
        self,
        store: Store,
        secret: bytes,
        installed: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.store = store
        self.secret = secret
        self.installed = installed

    def _page(
        self,
        name: str,
        partner_id: str,
        filters: Mapping[str, Any],
        found: Sequence[T],
        limit: int,
        position: Callable[[T], list[Any]],
        render: Callable[[T], Any],
        params: Mapping[str, str],
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """One page of ``found`` (read with ``limit + 1`` to learn whether more follow), with
        a cursor naming the list, partner, filters and the last item's position."""
        more = len(found) > limit
        chosen = list(found[:limit])
        cursor = None
        if more:
            cursor = pagination.encode(
                self.secret, name, partner_id, filters, position(chosen[-1])
            )
        return pagination.page(
            [render(x) for x in chosen], limit, more, cursor, name, params
        )

    def _position(
        self, kind: str, partner_id: str, params: Mapping[str, str], filters: Any
    ) -> list[Any] | None:
        position = pagination.decode(
            self.secret, params.get("cursor"), kind, partner_id, filters
        )
        if position is not None and len(position) != 2:
            raise InvalidInput(
                "cursor is not valid for this request",
                [("/query/cursor", "invalid")],
            )
        return position

    def assessments(
        self, partner_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        limit = pagination.parse_limit(params)
        filters = assessment_filters(params, self.installed)
        after = self._position("assessments", partner_id, params, filters)
        records = self.store.list_partner_assessments(
            AssessmentQuery(
                partner_id,
                limit=limit + 1,
                after=None if after is None else (str(after[0]), str(after[1])),
                **filters,
            )
        )
        return self._page(
            "assessments",
            partner_id,
            filters,
            records,
            limit,
            lambda r: [r.created_at, r.id],
            assessment_summary,
            params,
        )

    def deliveries(
        self, partner_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        from chalicelib.webhooks import public_delivery

        limit = pagination.parse_limit(params)
        before = self._position("deliveries", partner_id, params, {})
        if before is not None and not isinstance(before[0], int):
            raise InvalidInput("cursor is not valid", [("/query/cursor", "invalid")])
        found = self.store.list_deliveries(
            partner_id,
            limit + 1,
            None if before is None else (int(before[0]), str(before[1])),
        )
        return self._page(
            "deliveries",
            partner_id,
            {},
            found,
            limit,
            lambda d: [d.created_at, d.id],
            public_delivery,
            params,
        )

    def keys(
        self, partner_id: str, params: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A partner has few keys (at most 8 active; revoked ones stay listed): they are
        read in one Query of its partition and paged here, newest first."""
        from chalicelib.partners import public

        limit = pagination.parse_limit(params)
        after = self._position("keys", partner_id, params, {})
        ordered = sorted(
            self.store.list_partner_keys(partner_id),
            key=lambda k: (k.created_at, k.key_id),
            reverse=True,
        )
        if after is not None:
            mark = (str(after[0]), str(after[1]))
            ordered = [k for k in ordered if (k.created_at, k.key_id) < mark]
        return self._page(
            "keys",
            partner_id,
            {},
            ordered,
            limit,
            lambda k: [k.created_at, k.key_id],
            public,
            params,
        )


__all__ = ["ASSESSMENT_FILTERS", "PartnerLists", "assessment_summary"]
