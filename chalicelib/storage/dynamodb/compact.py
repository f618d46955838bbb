"""The compact assessment item (issue 15, item 1): a submission is one ``PutItem`` of
<= 1 KB, so it costs one write unit.

The record's JSON body (``codec.record_to_json``, the bytes SQLite stores) is deflated with
a fixed preset dictionary (``compact_v1.dict``: the question and option ids of the shipped
questionnaires and a record skeleton, so the ~2.8 KB of answers shrink to a few hundred
bytes) and stored as the binary ``body`` behind a one-byte format tag. The dictionary is
part of the stored format: it is never edited; a new one is a new tag (``compact_v2``),
and readers keep every old one. Items written before (``body`` a JSON string) are read
as they are. The partner-created index projects ``body`` whatever its type.

Pure: no boto3, no I/O but reading the dictionary file once, on first use.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

from chalicelib.records import AssessmentRecord
from chalicelib.storage import codec

V1 = b"\x01"  # format tag: raw deflate (wbits -15) with compact_v1.dict
_DIR = Path(__file__).resolve().parent


@functools.cache
def _dictionary(version: int) -> bytes:
    return (_DIR / f"compact_v{version}.dict").read_bytes()


def pack_body(rec: AssessmentRecord) -> bytes:
    """The stored binary body of ``rec``."""
    c = zlib.compressobj(
        9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _dictionary(1)
    )
    data = codec.record_to_json(rec).encode()
    return V1 + c.compress(data) + c.flush()


def unpack_body(body: bytes) -> str:
    """The JSON body of a stored binary body."""
    if body[:1] != V1:
        raise ValueError(f"unknown compact body format {body[:1]!r}")
    d = zlib.decompressobj(-15, _dictionary(1))
    return (d.decompress(body[1:]) + d.flush()).decode()


def record_from_attribute(value: dict[str, object]) -> AssessmentRecord:
    """The record of a stored ``body`` attribute value: ``{"B": bytes}`` (compact; base64
    text in a Lambda stream event) or ``{"S": json}`` (items written before)."""
    if "S" in value:
        return codec.record_from_json(str(value["S"]))
    raw = value.get("B")
    if isinstance(raw, str):  # a Lambda event carries binary attributes as base64
        import base64

        raw = base64.b64decode(raw)
    if not isinstance(raw, (bytes, bytearray)):
        raise TypeError("body must be a string or binary attribute")
    return codec.record_from_json(unpack_body(bytes(raw)))
