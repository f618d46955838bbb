"""System programs some file-level tests drive (installed by ``make system-deps``,
scripts/system-deps.sh): missing ones skip the test on a developer's machine and fail it in
CI (``CI`` set, as every CI service does), so a CI run can never pass by skipping."""

from __future__ import annotations

import os
import shutil

import pytest

PACKAGES = {
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    "soffice": "libreoffice-calc-nogui",
}


def require(program: str) -> str:
    """The path of ``program``; skip (fail in CI) when it is not installed."""
    path = shutil.which(program)
    if path is not None:
        return path
    message = (
        f"{program} is missing: make system-deps "
        f"(apt-get install {PACKAGES.get(program, program)})"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
