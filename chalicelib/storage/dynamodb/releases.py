"""Benchmark releases on DynamoDB (issue 15, ``ReleaseStore``; docs/STORAGE.md, "Releases").

- ``RELEASE#<grid>#<release id>`` / ``CELL#<cell key>``: one item per cell of a release
  (``releases.codec.cell_to_item`` as JSON), so a benchmark read is one BatchGetItem of
  the cells it shows, O(1) in submissions;
- ``REL#<grid>`` / ``R#<release id>``: the header (ids sort by time, so a Query of this
  partition lists releases newest first). It is written first, conditionally and marked
  ``pending``, so a reused id raises ``Conflict`` before any cell is overwritten; the mark
  is removed once every cell is stored, and pending headers are not listed or read;
- ``REL#<grid>`` / ``LATEST``: the pointer, written last: a reader never sees a release
  whose cells are not all stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.aggregation import CellKey, Grid
from chalicelib.errors import Conflict
from chalicelib.releases.codec import cell_from_item, cell_to_item
from chalicelib.releases.model import (
    Cell,
    Release,
    ReleaseHeader,
    header_of,
)
from chalicelib.storage.dynamodb.cells import grid_text
from chalicelib.storage.dynamodb.client import (
    BATCH_GET_SIZE,
    BATCH_WRITE_SIZE,
    Table,
    error_code,
)
from chalicelib.storage.dynamodb.keys import key, s


def _cells_pk(grid: Grid, release_id: str) -> str:
    return f"RELEASE#{grid_text(grid)}#{release_id}"


def _header_item(h: ReleaseHeader) -> dict[str, Any]:
    return {
        "id": s(h.id),
        "t": s(h.created_at),
        "k": {"N": str(h.k)},
        "n": {"N": str(h.cells)},
        "r": {"N": str(h.released)},
    }


def _header(grid: Grid, item: dict[str, Any]) -> ReleaseHeader:
    return ReleaseHeader(
        item["id"]["S"],
        item["t"]["S"],
        int(item["k"]["N"]),
        grid,
        int(item["n"]["N"]),
        int(item["r"]["N"]),
    )


class ReleasesMixin(Table):
    def put_release(self, release: Release) -> ReleaseHeader:
        header = header_of(release)
        grid = header.grid
        rel_pk = f"REL#{grid_text(grid)}"
        try:  # claim the id first: a reused one overwrites nothing
            self._call(
                "put_item",
                TableName=self.table_name,
                Item={
                    **key(rel_pk, f"R#{release.id}"),
                    **_header_item(header),
                    "pending": {"BOOL": True},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(f"release {release.id} exists") from None
        pk = _cells_pk(grid, release.id)
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        **key(pk, f"CELL#{cell.key}"),
                        "j": s(
                            json.dumps(cell_to_item(cell, c), separators=(",", ":"))
                        ),
                    }
                }
            }
            for cell, c in release.cells.items()
        ]
        batches = [
            puts[i : i + BATCH_WRITE_SIZE]
            for i in range(0, len(puts), BATCH_WRITE_SIZE)
        ]
        for _ in self._run_parallel(self._batch_write, batches):
            pass
        self._call(  # every cell stored: the release is complete
            "update_item",
            TableName=self.table_name,
            Key=key(rel_pk, f"R#{release.id}"),
            UpdateExpression="REMOVE pending",
        )
        self._call(  # the pointer last; never moved back to an older release
            "put_item",
            TableName=self.table_name,
            Item={**key(rel_pk, "LATEST"), **_header_item(header)},
        )
        return header

    def latest_release(self, grid: Grid) -> ReleaseHeader | None:
        item = self._get(key(f"REL#{grid_text(grid)}", "LATEST"))
        return None if item is None else _header(grid, item)

    def read_release_cells(
        self, grid: Grid, release_id: str, cells: Iterable[CellKey]
    ) -> dict[CellKey, Cell]:
        pk = _cells_pk(grid, release_id)
        keys = [key(pk, f"CELL#{c.key}") for c in dict.fromkeys(cells)]
        out: dict[CellKey, Cell] = {}
        for i in range(0, len(keys), BATCH_GET_SIZE):
            for item in self._batch_get(keys[i : i + BATCH_GET_SIZE]):
                cell, c = cell_from_item(json.loads(item["j"]["S"]))
                out[cell] = c
        return out

    def read_release(self, grid: Grid, release_id: str) -> Release | None:
        head = self._get(key(f"REL#{grid_text(grid)}", f"R#{release_id}"))
        if head is None or "pending" in head:
            return None
        h = _header(grid, head)
        cells = dict(
            cell_from_item(json.loads(i["j"]["S"]))
            for i in self._query_partition(_cells_pk(grid, release_id), "CELL#")
        )
        return Release(h.id, h.created_at, h.k, dict(sorted(cells.items())), grid)

    def list_releases(self, grid: Grid, limit: int = 20) -> list[ReleaseHeader]:
        resp = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": s(f"REL#{grid_text(grid)}"),
                ":p": s("R#"),
            },
            ScanIndexForward=False,
            Limit=max(1, limit),
            ConsistentRead=True,
        )
        return [_header(grid, i) for i in resp.get("Items", []) if "pending" not in i]
