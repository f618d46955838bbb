"""A bounded schemathesis pass over every operation of /v1/openapi.json (public and partner)
with every check, against a live ``chalice local`` on a fresh data directory and with a
partner key holding every scope. Path parameters name real resources (a public assessment and
its token, one of the partner's assessments, a draft, a spare key to revoke), so requests reach
the use cases instead of stopping at 404s; ``previous_token`` in submissions is a real result
token. ``Idempotency-Key`` is one random UUID per run: anonymous keys must be random
(docs/ARCHITECTURE.md), which no schema pattern can express. Used by tests/e2e/test_contract_fuzzing.py and ``make fuzz``:

    .venv/bin/python -m tests.e2e.fuzz [--max-examples N] [--report-dir DIR]

Prints schemathesis's summary and exits with its status (0: no failure)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from chalicelib.partners import SCOPES, PartnerService
from chalicelib.storage.sqlite import SqliteStore
from tests.e2e.server import local_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = 10
TIMEOUT_SECONDS = 600  # the whole pass; a few minutes on 2 cores in practice


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


def _toml(value: str) -> str:
    return json.dumps(value)  # a TOML basic string for these ASCII ids and tokens


def _resources(base: str, key: str) -> dict[str, Any]:
    """Create what the path parameters and ``previous_token`` refer to, over HTTP."""
    answers = requests.get(f"{base}/v1/openapi.json", timeout=30).json()["components"][
        "schemas"
    ]["AnswersIn"]["properties"]["answers"]["examples"][0]
    body = {"answers": answers}
    auth = {"Authorization": f"Bearer {key}"}

    def post(path: str, data: dict[str, Any], headers: dict[str, str]) -> Any:
        r = requests.post(f"{base}{path}", json=data, headers=headers, timeout=30)
        r.raise_for_status()
        return r.json()

    public = post("/v1/assessments", body, {})
    earlier = post("/v1/assessments", body, {})  # never in a path, so never erased
    own = post("/v1/partner/assessments", body, auth)
    draft = post("/v1/drafts", {}, {})
    # an organisation (managed by the fuzzer's partner, so both its public and its partner
    # routes reach it) with one respondent who submitted complete answers
    scored = {
        qid: option
        for qid, option in answers.items()
        if qid not in ("industry", "size", "country", "consent")
    }
    organisation = post(
        "/v1/partner/organisations",
        {
            "name": "Fuzz",
            "profile": {
                k: answers[k] for k in ("industry", "size", "country", "consent")
            },
        },
        auth,
    )
    owner = {"X-Organisation-Token": organisation["token"]}
    invite = post(
        f"/v1/organisations/{organisation['id']}/respondents", {"role": "all"}, owner
    )["invite_token"]
    r = requests.put(
        f"{base}/v1/respondent/answers",
        json={"answers": scored, "submit": True},
        headers={"X-Respondent-Token": invite},
        timeout=30,
    )
    r.raise_for_status()
    return {
        "oid": organisation["id"],
        "owner_token": organisation["token"],
        "invite_token": invite,
        "public": public,
        "previous_token": earlier["token"],
        "partner_aid": own["id"],
        "did": draft["id"],
        "step_qid": next(iter(scored)),  # a scored question: a roadmap step's id
    }


def config_file(base_config: Path, out: Path, res: dict[str, Any]) -> Path:
    """The checked-in settings plus the ids of this run's resources."""
    extra = f"""
[parameters]
"path.qid" = "smm"
"path.version" = "1.0.0"
"path.did" = {_toml(res["did"])}
"path.key_id" = {_toml(res["spare_key_id"])}
"path.asset" = "docs.js"
"path.name" = "app.js"
"path.oid" = {_toml(res["oid"])}
"body.previous_token" = {_toml(res["previous_token"])}
"header.Idempotency-Key" = {_toml(str(uuid.uuid4()))}

[[operations]]
include-path-regex = "^/v1/partner/"
parameters = {{ "path.aid" = {_toml(res["partner_aid"])} }}

[[operations]]
include-path-regex = "/roadmap/steps/"
parameters = {{ "path.qid" = {_toml(res["step_qid"])} }}

[[operations]]
include-path-regex = "^/v1/assessments/"
parameters = {{ "path.aid" = {_toml(res["public"]["id"])} }}

[[operations]]
include-operation-id = "embed_get"
parameters = {{ "query.key" = {_toml(res["publishable"])} }}
"""
    out.write_text(base_config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return out


def run(data_dir: Path, report_dir: Path, max_examples: int) -> Outcome:
    store = SqliteStore(str(data_dir / "smm.sqlite3"))
    partners = PartnerService(store)
    key, record = partners.create(
        "Fuzzer",
        list(SCOPES),
        ["https://fuzz.example"],
        "premium",  # 6,000 a minute
    )
    # DELETE /v1/partner/keys/{key_id} revokes this one, not the key the pass runs with
    _, spare = partners.create("Fuzzer", ["read"], [], partner_id=record.partner_id)
    # /embed frames the questionnaire for this key's origin
    publishable, _ = partners.create(
        "Fuzzer",
        ["submit"],
        ["https://fuzz.example"],
        partner_id=record.partner_id,
        kind="publishable",
    )
    store.close()
    with local_server({"DATA_DIR": str(data_dir), "STORE": "sqlite"}) as base:
        res = {
            **_resources(base, key),
            "spare_key_id": spare.key_id,
            "publishable": publishable,
        }
        config = config_file(CONFIG, data_dir / "schemathesis.toml", res)
        cmd = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"{base}/v1/openapi.json",
            "--url",
            base,
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--phases",
            "examples,coverage,fuzzing",
            "--header",
            f"Authorization: Bearer {key}",
            "--header",
            f"X-Result-Token: {res['public']['token']}",
            "--header",
            f"X-Organisation-Token: {res['owner_token']}",
            "--header",
            f"X-Respondent-Token: {res['invite_token']}",
            "--request-timeout",
            "20",
            "--workers",
            "1",
            "--generation-deterministic",
            "--report",
            "junit,ndjson",
            "--report-dir",
            str(report_dir),
        ]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    return Outcome(out.returncode, out.stdout + out.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=EXAMPLES_PER_OPERATION)
    parser.add_argument("--report-dir", default="artifacts/schemathesis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smm-fuzz-") as tmp:
        outcome = run(Path(tmp), Path(args.report_dir), args.max_examples)
    print(outcome.output)
    return outcome.returncode


if __name__ == "__main__":
    raise SystemExit(main())
