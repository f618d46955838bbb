"""A release as JSON items: a header and one small item per cell (for a store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.aggregation import CellKey, Grid
from chalicelib.privacy import BELOW_THRESHOLD, COMPLEMENT, NO_DATA, RELEASED
from chalicelib.releases.model import (
    WITHHELD,
    Cell,
    MetricFigures,
    Release,
    ReleasedCell,
    SuppressedCell,
)

_METRIC_STATUS = {BELOW_THRESHOLD: "b", COMPLEMENT: "x"}
_METRIC_STATUS_BACK = {v: k for k, v in _METRIC_STATUS.items()}
_STATUS = {
    RELEASED: "r",
    NO_DATA: "0",
    BELOW_THRESHOLD: "b",
    COMPLEMENT: "x",
    WITHHELD: "w",
}
_STATUS_BACK = {v: k for k, v in _STATUS.items()}
HEADER = "#release"


def _figures_item(cell: ReleasedCell) -> dict[str, Any]:
    return {
        "n": cell.n,
        "ch": cell.changes,
        "rm": cell.removals,
        "i": cell.computed_in,
        "t": cell.computed_at,
        "mo": list(cell.months) if cell.months else None,
        "m": {
            m: _METRIC_STATUS[f] if isinstance(f, str) else [f.n, f.mean, *f.shares]
            for m, f in cell.metrics.items()
        },
    }


def _figures_from(item: Mapping[str, Any]) -> ReleasedCell:
    metrics: dict[str, MetricFigures | str] = {}
    for m, v in item["m"].items():
        if isinstance(v, str):
            metrics[m] = _METRIC_STATUS_BACK[v]
        else:
            metrics[m] = MetricFigures(
                int(v[0]), int(v[1]), tuple(int(s) for s in v[2:])
            )
    months = item.get("mo")
    return ReleasedCell(
        int(item["n"]),
        (str(months[0]), str(months[1])) if months else None,
        metrics,
        str(item["i"]),
        str(item["t"]),
        int(item["ch"]),
        int(item["rm"]),
    )


def cell_to_item(key: CellKey, cell: Cell) -> dict[str, Any]:
    """A JSON-ready item for one cell (short names; ``h`` is the held last publication)."""
    item: dict[str, Any] = {"c": key.key, "s": _STATUS[cell.status]}
    if isinstance(cell, ReleasedCell):
        item["f"] = _figures_item(cell)
    elif cell.held is not None:
        item["h"] = _figures_item(cell.held)
    return item


def cell_from_item(item: Mapping[str, Any]) -> tuple[CellKey, Cell]:
    key = CellKey.from_key(str(item["c"]))
    status = _STATUS_BACK[str(item["s"])]
    if status == RELEASED:
        return key, _figures_from(item["f"])
    held = _figures_from(item["h"]) if item.get("h") else None
    return key, SuppressedCell(status, held)


def release_to_items(release: Release) -> list[dict[str, Any]]:
    """A header item (id, date, k, grid) and one item per cell."""
    g = release.grid
    header: dict[str, Any] = {
        "c": HEADER,
        "id": release.id,
        "t": release.created_at,
        "k": release.k,
        "g": [g.source, g.questionnaire_id, g.version] if g else None,
    }
    return [header, *(cell_to_item(k, c) for k, c in release.cells.items())]


def release_from_items(items: Iterable[Mapping[str, Any]]) -> Release:
    header: Mapping[str, Any] | None = None
    cells: dict[CellKey, Cell] = {}
    for item in items:
        if item.get("c") == HEADER:
            header = item
        else:
            key, cell = cell_from_item(item)
            cells[key] = cell
    if header is None:
        raise ValueError("no release header item")
    g = header.get("g")
    return Release(
        str(header["id"]),
        str(header["t"]),
        int(header["k"]),
        dict(sorted(cells.items())),
        Grid(*g) if g else None,
    )
