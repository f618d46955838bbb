"""Run requests through the app in a fresh interpreter and report which heavy modules it
loaded: proves that scipy and numpy stay off a request path (a test process has them loaded
already, so this cannot be checked in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def heavy_modules_after(requests: str, data_dir: Path) -> list[str]:
    """Run ``requests`` (code using ``c``, a chalice.test.Client, ``body``, the example
    submission, and ``json``) in a new process; return the scipy/numpy modules it imported."""
    code = (
        "import json, os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"os.environ['DATA_DIR'] = {str(data_dir)!r}\n"
        f"os.environ['QUESTIONNAIRE_DIR'] = {str(ROOT / 'questionnaires')!r}\n"
        "from chalice.test import Client\n"
        "import app\n"
        f"body = json.load(open({str(ROOT / 'examples' / 'assessment.json')!r}))\n"
        "with Client(app.app) as c:\n"
        + textwrap.indent(textwrap.dedent(requests).strip() + "\n", "    ")
        + "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('scipy', 'numpy'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded
