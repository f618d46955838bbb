"""Drafts: JSON ``body`` and ``expires_at``, the table's TTL attribute (deleted lazily, so
an expired draft is treated as absent on read)."""

from __future__ import annotations

from chalicelib.records import Draft
from chalicelib.storage import codec
from chalicelib.storage.dynamodb.client import Table
from chalicelib.storage.dynamodb.keys import draft_key, s


class DraftsMixin(Table):
    def put_draft(self, draft: Draft) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **draft_key(draft.id),
                "body": s(codec.draft_to_json(draft)),
                "expires_at": {"N": str(int(draft.expires_at))},
            },
        )

    def get_draft(self, draft_id: str, now: int) -> Draft | None:
        item = self._get(draft_key(draft_id))
        if item is None or int(item["expires_at"]["N"]) <= now:
            return None  # TTL deletes expired items lazily: expired means absent
        return codec.draft_from_json(item["body"]["S"])

    def delete_draft(self, draft_id: str) -> None:
        self._call("delete_item", TableName=self.table_name, Key=draft_key(draft_id))
