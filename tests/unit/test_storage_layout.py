"""Where storage code lives: botocore only in the DynamoDB adapter package, the domain and
the embedded store free of it, records taken from chalicelib/records.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chalicelib.storage

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "chalicelib" / "storage" / "dynamodb"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_botocore_is_imported_only_by_the_dynamodb_package() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in [*(ROOT / "chalicelib").rglob("*.py"), ROOT / "app.py"]
        if ADAPTER not in p.parents and _imports(p) & {"boto3", "botocore"}
    ]
    assert offenders == []
    assert any("botocore" in _imports(p) for p in ADAPTER.glob("*.py"))


def test_the_sqlite_store_and_the_codecs_load_without_botocore() -> None:
    code = (
        "import sys; import chalicelib.storage.sqlite, chalicelib.storage.codec,"
        " chalicelib.storage.packed, chalicelib.records, chalicelib.assessments;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_records_are_not_reexported_by_the_storage_port() -> None:
    for name in (
        "AssessmentRecord",
        "Contribution",
        "Aggregate",
        "Delivery",
        "Webhook",
    ):
        assert not hasattr(chalicelib.storage, name), name
    assert callable(chalicelib.storage.store_from_env)
