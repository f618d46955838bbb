"""Rate-limit windows: one counter item per subject, policy and window start."""

from __future__ import annotations

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.records import RateWindow
from chalicelib.storage.dynamodb.client import Table, error_code
from chalicelib.storage.dynamodb.keys import rate_key


class RatesMixin(Table):
    def take_rate(
        self, subject: str, windows: tuple[RateWindow, ...]
    ) -> tuple[bool, tuple[int, ...]]:
        """One conditional ``ADD`` per window (``n < limit``; the item expires via TTL after
        its window). A window that refuses undoes the windows counted before it (ADD -1),
        so a refused request is not counted. Two concurrent requests may both see the undo
        window's count one too high for a moment: never more than ``limit`` are allowed."""
        counts: list[int] = []
        for i, w in enumerate(windows):
            try:
                resp = self._call(
                    "update_item",
                    TableName=self.table_name,
                    Key=rate_key(subject, w.policy, w.start),
                    UpdateExpression="ADD #n :one SET expires_at = :exp",
                    ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":exp": {"N": str(w.end)},
                        ":limit": {"N": str(w.limit)},
                    },
                    ReturnValues="UPDATED_NEW",
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                for done in windows[:i]:
                    self._call(
                        "update_item",
                        TableName=self.table_name,
                        Key=rate_key(subject, done.policy, done.start),
                        UpdateExpression="ADD #n :minus",
                        ExpressionAttributeNames={"#n": "n"},
                        ExpressionAttributeValues={":minus": {"N": "-1"}},
                    )
                refused = [n - 1 for n in counts] + [w.limit]
                return False, tuple(refused + [0] * (len(windows) - len(refused)))
            counts.append(int(resp["Attributes"]["n"]["N"]))
        return True, tuple(counts)
