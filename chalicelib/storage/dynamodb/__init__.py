"""DynamoDB adapter: one table (infra/table.yaml), a low-level botocore client, own bounded
retries. botocore is imported only in this package.

``DynamoStore`` combines one mixin per entity group (assessments with the stream reader and
the cell aggregates, releases, drafts, rate windows, partners, webhooks) over ``client.Table``, which owns the requests, retries and
transactions; ``keys.py`` holds every key. The item layout, the write transactions and why
retries are safe are described in docs/STORAGE.md.
"""

from __future__ import annotations

import os
from typing import Any

from chalicelib.storage.dynamodb.assessments import AssessmentsMixin
from chalicelib.storage.dynamodb.client import DEFAULT_REGION, is_loopback, make_client
from chalicelib.storage.dynamodb.drafts import DraftsMixin
from chalicelib.storage.dynamodb.keys import bench_pk, cohort_sk
from chalicelib.storage.dynamodb.organisations import OrganisationsMixin
from chalicelib.storage.dynamodb.partners import PartnersMixin
from chalicelib.storage.dynamodb.rates import RatesMixin
from chalicelib.storage.dynamodb.releases import ReleasesMixin
from chalicelib.storage.dynamodb.rollups import (
    MAX_ADD_ACTIONS,
    MAX_EXPRESSION_BYTES,
    add_expressions,
)
from chalicelib.storage.dynamodb.webhooks import WebhooksMixin

__all__ = [
    "MAX_ADD_ACTIONS",
    "MAX_EXPRESSION_BYTES",
    "DynamoStore",
    "add_expressions",
    "bench_pk",
    "cohort_sk",
    "make_client",
]


class DynamoStore(
    AssessmentsMixin,
    ReleasesMixin,
    DraftsMixin,
    RatesMixin,
    PartnersMixin,
    WebhooksMixin,
    OrganisationsMixin,
):
    """Store adapter on one DynamoDB table. Thread-safe (botocore clients are).

    ``client`` is a DynamoDB client or a zero-argument factory returning one (called on
    first use, so building the store connects to nothing). ``requests`` counts the DynamoDB
    API requests made, per operation name, retries included."""

    @classmethod
    def from_env(cls) -> DynamoStore:
        """TABLE_NAME (required), DYNAMODB_ENDPOINT (e.g. DynamoDB Local), AWS_REGION or
        AWS_DEFAULT_REGION (default eu-central-1), DYNAMODB_MAX_ATTEMPTS (default 4). With a
        loopback DYNAMODB_ENDPOINT and no AWS credentials in the environment, dummy
        credentials are used (DynamoDB Local accepts any)."""
        table = os.environ.get("TABLE_NAME", "").strip()
        if not table:
            raise ValueError("TABLE_NAME must be set when STORE=dynamodb")
        endpoint = os.environ.get("DYNAMODB_ENDPOINT", "").strip() or None
        region = (
            os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION
        )
        raw_attempts = os.environ.get("DYNAMODB_MAX_ATTEMPTS", "").strip() or "4"
        try:
            max_attempts = int(raw_attempts)
        except ValueError:
            raise ValueError(
                f"DYNAMODB_MAX_ATTEMPTS must be an integer, not {raw_attempts!r}"
            ) from None
        if max_attempts < 1:
            raise ValueError("DYNAMODB_MAX_ATTEMPTS must be at least 1")
        dummy = bool(
            endpoint and is_loopback(endpoint) and "AWS_ACCESS_KEY_ID" not in os.environ
        )

        def factory() -> Any:
            return make_client(
                endpoint,
                region,
                aws_access_key_id="local" if dummy else None,
                aws_secret_access_key="local" if dummy else None,
            )

        return cls(table, factory, max_attempts=max_attempts)
