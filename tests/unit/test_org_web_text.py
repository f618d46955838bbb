"""The organisation pages' texts (chalicelib/web/orgtext.js) exist in German and English
alike: the same keys, and every function-valued text in both languages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import { ORG_TEXT } from './chalicelib/web/orgtext.js';
const shape = (t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v]));
console.log(JSON.stringify({ en: shape(ORG_TEXT.en), de: shape(ORG_TEXT.de) }));
"""


def test_every_org_text_exists_in_both_languages() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed (it runs the page's modules' checks)"
    out = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    shapes = json.loads(out)
    assert shapes["en"] == shapes["de"]
    assert len(shapes["en"]) > 50
