"""Partner webhook endpoints and their deliveries: the delivery item, its ``EVENT#<id>``
entry (lookup by id) and, while pending, its entry in the ``WEBHOOKS#DUE`` partition."""

from __future__ import annotations

from typing import Any

from chalicelib.records import Delivery, Webhook
from chalicelib.storage import codec
from chalicelib.storage.dynamodb.client import Table
from chalicelib.storage.dynamodb.keys import (
    DUE_PARTITION,
    delivery_key,
    delivery_sk,
    due_key,
    event_key,
    key,
    partner_pk,
    s,
    webhook_key,
)

DELIVERY_TTL_SECONDS = 30 * 86_400  # delivery logs expire via the table's TTL attribute


def delivery_puts(
    table_name: str, d: Delivery, new: bool = True
) -> list[dict[str, Any]]:
    """Transaction items writing a delivery (and its due entry while pending; for a new
    one, the ``EVENT#<id>`` entry that finds it by id)."""
    body = s(codec.delivery_to_json(d))
    expires = {"N": str(d.created_at + DELIVERY_TTL_SECONDS)}
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": {**delivery_key(d), "body": body, "expires_at": expires},
            }
        }
    ]
    if new:
        items.append(
            {
                "Put": {
                    "TableName": table_name,
                    "Item": {
                        **event_key(d.partner_id, d.id),
                        # not created_at: that name is the partner-created
                        # index's string key (a number there is refused)
                        "created": {"N": str(d.created_at)},
                        "expires_at": expires,
                    },
                }
            }
        )
    if d.state == "pending":
        items.append(
            {"Put": {"TableName": table_name, "Item": {**due_key(d), "body": body}}}
        )
    return items


class WebhooksMixin(Table):
    def put_webhook(self, hook: Webhook) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **webhook_key(hook.partner_id),
                "body": s(codec.webhook_to_json(hook)),
            },
        )

    def get_webhook(self, partner_id: str) -> Webhook | None:
        item = self._get(webhook_key(partner_id))
        return None if item is None else codec.webhook_from_json(item["body"]["S"])

    def delete_webhook(self, partner_id: str) -> None:
        self._call(
            "delete_item", TableName=self.table_name, Key=webhook_key(partner_id)
        )

    def put_delivery(self, delivery: Delivery) -> None:
        """The delivery item (``PARTNER#<id>`` / ``DELIVERY#<created>#<id>``, expiring after
        ``DELIVERY_TTL_SECONDS``) and, while pending, a copy in the ``WEBHOOKS#DUE``
        partition sorted by ``next_at``, replaced in one transaction."""
        d = delivery
        old = self._get(delivery_key(d), projection="body")
        items = delivery_puts(self.table_name, d, new=old is None)
        if old is not None:
            prev = codec.delivery_from_json(old["body"]["S"])
            if prev.state == "pending" and (
                prev.next_at != d.next_at or d.state != "pending"
            ):
                items.append(
                    {"Delete": {"TableName": self.table_name, "Key": due_key(prev)}}
                )
        self._transact_or_raise(items)

    def list_deliveries(
        self, partner_id: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[Delivery]:
        values = {":pk": s(partner_pk(partner_id)), ":prefix": s("DELIVERY#")}
        cond = "PK = :pk AND begins_with(SK, :prefix)"
        if before is not None:  # sort keys below the previous page's last one
            cond = "PK = :pk AND SK BETWEEN :prefix AND :before"
            values[":before"] = s(delivery_sk(*before))
        resp = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression=cond,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit + (before is not None),
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        if before is not None:
            last = delivery_sk(*before)
            items = [i for i in items if i["SK"]["S"] != last][:limit]
        return [codec.delivery_from_json(i["body"]["S"]) for i in items]

    def due_deliveries(self, now: int, limit: int = 50) -> list[Delivery]:
        resp = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND SK <= :until",
            ExpressionAttributeValues={
                ":pk": s(DUE_PARTITION),
                ":until": s(f"{now:010d}~"),
            },
            Limit=limit,
            ConsistentRead=True,
        )
        return [codec.delivery_from_json(i["body"]["S"]) for i in resp.get("Items", [])]

    def get_delivery(self, partner_id: str, delivery_id: str) -> Delivery | None:
        """Two reads: the ``EVENT#<id>`` entry names the delivery's creation time, which
        is part of its sort key. The partition is the partner's, so another partner's id
        is simply absent."""
        entry = self._get(event_key(partner_id, delivery_id))
        if entry is None:
            return None
        created = int((entry.get("created") or entry["created_at"])["N"])
        item = self._get(key(partner_pk(partner_id), delivery_sk(created, delivery_id)))
        return None if item is None else codec.delivery_from_json(item["body"]["S"])
