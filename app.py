"""The Chalice app: the three blueprints (chalicelib/routes: public, partner, pages), the
scheduled webhook delivery, the scheduled benchmark release and Lambda's init phase. The services come from one lazily built
container (chalicelib/container.py, held by chalicelib/routes/common.py); tests install their
own with ``use_container``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Rate

from chalicelib.config import release_schedule
from chalicelib.routes.common import (
    ANY_TYPE,
    View,
    container,
    installed_container,
    use_container,
)
from chalicelib.routes.organisations import organisations
from chalicelib.routes.pages import pages
from chalicelib.routes.partner import partner, partner_key, registered_origin_cors
from chalicelib.routes.public import public


class App(Chalice):
    """Every route accepts any Content-Type (see chalicelib.routes.common.ANY_TYPE)."""

    def route(self, path: str, **kwargs: Any) -> Callable[[View], View]:
        kwargs.setdefault("content_types", ANY_TYPE)
        decorate: Callable[[View], View] = super().route(path, **kwargs)
        return decorate


app = App(app_name="smm-benchmark")
app.api.binary_types += [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
app.log.setLevel(logging.INFO)
app.register_blueprint(public)
app.register_blueprint(organisations)
app.register_blueprint(partner)
app.register_blueprint(pages)

if "chalice.local" in sys.modules:  # chalice local or chalice.test, never on Lambda
    from chalicelib.gateway import install_local

    install_local(registered_origin_cors)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def deliver_webhooks(event: Any) -> dict[str, int]:
    """Retries due webhook deliveries (bounded per run; the rest waits for the next run)."""
    from chalicelib.webhooks import RUN_BUDGET_SECONDS

    done = container().webhooks.deliver_due(
        limit=200, budget_seconds=RUN_BUDGET_SECONDS
    )
    return {
        "attempted": len(done),
        "delivered": sum(d.state == "delivered" for d in done),
    }


@app.schedule(release_schedule(), name="publish_releases")
def publish_releases(event: Any) -> dict[str, Any]:
    """Publishes the benchmark releases (RELEASE_SCHEDULE, default hourly): folds what is
    pending, then a privacy-checked release per grid (chalicelib/release_service.py)."""
    return container().releases.publish().as_json()


# the stream's ARN is known only once the table exists: the packaged template imports it from
# the table stack (chalicelib/storage/dynamodb/deploy.py), this stands in at package time
PLACEHOLDER_ARN = (
    "arn:aws:dynamodb:eu-central-1:000000000000:table/smm-benchmark-prod/stream/"
    "1970-01-01T00:00:00.000"
)


@app.on_dynamodb_record(
    stream_arn=os.environ.get("TABLE_STREAM_ARN", PLACEHOLDER_ARN),
    batch_size=1000,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=5,
)
def aggregate_stream(event: Any) -> dict[str, list[dict[str, str]]]:
    """Folds the table's stream into the cell aggregates, exactly once (issue 15); the
    failure handling is merged into the template (chalicelib/storage/dynamodb/deploy.py)."""
    store: Any = container().assessments.store
    return dict(store.fold_stream_event(event.to_dict()["Records"]))


# --- Lambda's init phase ---
def _lambda_init() -> None:
    """Build in Lambda's init phase what the first request would otherwise build: the service
    (settings, questionnaires, store), the store's client (DynamoDB: importing botocore and
    creating the client, no request), the request models and the benchmark use cases. A bad
    setting (a short SMM_SECRET) fails the init, where Lambda logs it. The statistics (scipy)
    stay lazy. The authorizer and the scheduled webhook delivery are functions of their own
    (Lambda's ``_HANDLER`` names them): they need the store only."""
    services = container()
    getattr(
        services.assessments.store, "client", None
    )  # DynamoStore: client on first use
    if os.environ.get("_HANDLER", "app.app") == "app.app":
        _ = services.benchmarks
        import chalicelib.request_models  # noqa: F401 - every POST validates with these


# AWS_LAMBDA_FUNCTION_NAME is set by Lambda only: tests, `chalice local` and tools that
# import the app keep building everything on first use.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    _lambda_init()

__all__ = [
    "aggregate_stream",
    "app",
    "container",
    "deliver_webhooks",
    "installed_container",
    "partner_key",  # Lambda's handler of the authorizer: app.partner_key
    "publish_releases",
    "use_container",
]
