"""Every key of the table (string ``PK``/``SK``): the item layout of docs/STORAGE.md."""

from __future__ import annotations

from chalicelib.records import Delivery

Key = dict[str, dict[str, str]]

DUE_PARTITION = (
    "WEBHOOKS#DUE"  # pending webhook deliveries, sorted by when they are due
)
PARTNERS_PARTITION = "PARTNERS"  # a copy of every partner key, for listing them all


def s(value: str) -> dict[str, str]:
    """A string attribute value."""
    return {"S": value}


def key(pk: str, sk: str) -> Key:
    return {"PK": s(pk), "SK": s(sk)}


def assessment_key(assessment_id: str) -> Key:
    return key(f"ASSESSMENT#{assessment_id}", "A")


def idempotency_key(key_id: str) -> Key:
    return key(f"IDEMPOTENCY#{key_id}", "I")


def rate_key(subject: str, policy: str, start: int) -> Key:
    return key(f"RATE#{subject}", f"{policy}#{start:010d}")


def bench_pk(source: str, questionnaire_id: str, version: str) -> str:
    """The partition of every aggregate item of one source and questionnaire version."""
    return f"BENCH#{source}#{questionnaire_id}#{version}"


def cohort_sk(cohort_key: str) -> str:
    return f"COHORT#{cohort_key}"


def draft_key(draft_id: str) -> Key:
    return key(f"DRAFT#{draft_id}", "D")


def partner_pk(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def partner_key_key(key_id: str) -> Key:
    """The main item of a partner key (its two listing copies: ``key_copy_sk``)."""
    return key(f"PARTNERKEY#{key_id}", "K")


def key_copy_sk(key_id: str) -> str:
    return f"KEY#{key_id}"


def webhook_key(partner_id: str) -> Key:
    return key(partner_pk(partner_id), "WEBHOOK")


def branding_key(partner_id: str) -> Key:
    return key(partner_pk(partner_id), "BRANDING")


def delivery_sk(created_at: int, delivery_id: str) -> str:
    return f"DELIVERY#{created_at:010d}#{delivery_id}"


def delivery_key(d: Delivery) -> Key:
    return key(partner_pk(d.partner_id), delivery_sk(d.created_at, d.id))


def event_key(partner_id: str, delivery_id: str) -> Key:
    return key(partner_pk(partner_id), f"EVENT#{delivery_id}")


def due_key(d: Delivery) -> Key:
    return key(DUE_PARTITION, f"{d.next_at:010d}#{d.partner_id}#{d.id}")
