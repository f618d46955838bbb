"""Partner keys (the main item and two listing copies, written in one transaction) and the
partners' white-label brandings."""

from __future__ import annotations

from typing import Any

from chalicelib.records import PartnerKey
from chalicelib.storage import codec
from chalicelib.storage.dynamodb.client import Cancelled, Table
from chalicelib.storage.dynamodb.keys import (
    PARTNERS_PARTITION,
    branding_key,
    key_copy_sk,
    partner_key_key,
    partner_pk,
    s,
)
from chalicelib.storage.dynamodb.keys import key as item_key


class PartnersMixin(Table):
    def put_partner_key(self, key: PartnerKey) -> None:
        k = key
        body = s(codec.partner_key_to_json(k))
        main_key = partner_key_key(k.key_id)
        for _ in range(self.max_attempts):
            old = self._get(main_key, projection="partner_id")
            main: dict[str, Any] = {
                "TableName": self.table_name,
                "Item": {**main_key, "body": body, "partner_id": s(k.partner_id)},
            }
            if old is None:
                main["ConditionExpression"] = "attribute_not_exists(PK)"
            else:  # optimistic: nobody moved the key to another partner since we read it
                main["ConditionExpression"] = "partner_id = :old"
                main["ExpressionAttributeValues"] = {":old": old["partner_id"]}
            items: list[dict[str, Any]] = [
                {"Put": main},
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **item_key(partner_pk(k.partner_id), key_copy_sk(k.key_id)),
                            "body": body,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **item_key(PARTNERS_PARTITION, key_copy_sk(k.key_id)),
                            "body": body,
                        },
                    }
                },
            ]
            if old is not None and old["partner_id"]["S"] != k.partner_id:
                stale = item_key(
                    partner_pk(old["partner_id"]["S"]), key_copy_sk(k.key_id)
                )
                items.append({"Delete": {"TableName": self.table_name, "Key": stale}})
            try:
                self._transact(items)
                return
            except Cancelled as cancelled:
                if not cancelled.condition_failed_on_first():
                    raise cancelled.error from None
                # a concurrent writer changed the key between our read and write: re-read
        raise self._unavailable("put_partner_key (concurrent updates)", None)

    def get_partner_key(self, key_id: str) -> PartnerKey | None:
        item = self._get(partner_key_key(key_id))
        return None if item is None else codec.partner_key_from_json(item["body"]["S"])

    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]:
        pk = PARTNERS_PARTITION if partner_id is None else partner_pk(partner_id)
        return [
            codec.partner_key_from_json(item["body"]["S"])
            for item in self._query_partition(pk, key_copy_sk(""))
        ]

    # --- white label ------------------------------------------------------------------------
    def put_branding(self, partner_id: str, branding: dict[str, Any]) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **branding_key(partner_id),
                "body": s(codec.branding_to_json(branding)),
            },
        )

    def get_branding(self, partner_id: str) -> dict[str, Any] | None:
        item = self._get(branding_key(partner_id))
        return None if item is None else codec.branding_from_json(item["body"]["S"])

    def delete_branding(self, partner_id: str) -> None:
        self._call(
            "delete_item", TableName=self.table_name, Key=branding_key(partner_id)
        )
