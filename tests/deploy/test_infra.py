"""The CloudFormation templates in infra/: every one passes cfn-lint, the usage plans throttle
and meter every tier, and the templates agree with the Chalice prod stage they serve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "infra").glob("*.yaml"))
TIERS = ("free", "standard", "premium")  # cheapest first


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub, ...) as dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=CfnLoader)
    return data


def prod_stage() -> dict[str, Any]:
    stage: dict[str, Any] = json.loads((ROOT / ".chalice" / "config.json").read_text())[
        "stages"
    ]["prod"]
    return stage


def usage_plans() -> dict[str, dict[str, Any]]:
    """Usage plans of infra/api.yaml by their tier tag."""
    resources = load(ROOT / "infra" / "api.yaml")["Resources"]
    plans = {}
    for res in resources.values():
        if res["Type"] == "AWS::ApiGateway::UsagePlan":
            tags = {t["Key"]: t["Value"] for t in res["Properties"].get("Tags", [])}
            plans[tags["tier"]] = res["Properties"]
    return plans


def test_the_usage_plan_template_is_there() -> None:
    assert ROOT / "infra" / "api.yaml" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_template_passes_cfn_lint(template: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    proc = subprocess.run(
        [str(cfn_lint), str(template)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_tier_has_a_throttled_metered_plan() -> None:
    plans = usage_plans()
    assert set(plans) == set(TIERS)
    for tier, plan in plans.items():
        throttle, quota = plan["Throttle"], plan["Quota"]
        assert throttle["RateLimit"] > 0, tier
        assert throttle["BurstLimit"] >= throttle["RateLimit"], tier
        assert quota["Limit"] > 0, tier
        assert quota["Period"] in ("DAY", "WEEK", "MONTH"), tier
        assert plan["ApiStages"] == [
            {"ApiId": {"Ref": "RestApiId"}, "Stage": {"Ref": "StageName"}}
        ], tier


def test_higher_tiers_allow_more() -> None:
    plans = usage_plans()
    per_day = {"DAY": 1, "WEEK": 1 / 7, "MONTH": 1 / 30}
    rates = [plans[t]["Throttle"]["RateLimit"] for t in TIERS]
    bursts = [plans[t]["Throttle"]["BurstLimit"] for t in TIERS]
    daily = [
        plans[t]["Quota"]["Limit"] * per_day[plans[t]["Quota"]["Period"]] for t in TIERS
    ]
    for values in (rates, bursts, daily):
        assert values == sorted(values) and len(set(values)) == len(values)


def test_usage_plan_ids_are_outputs() -> None:
    template = load(ROOT / "infra" / "api.yaml")
    refs = {o["Value"]["Ref"] for o in template["Outputs"].values()}
    plan_ids = {
        name
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::ApiGateway::UsagePlan"
    }
    assert plan_ids <= refs


def test_api_stage_matches_the_chalice_stage() -> None:
    params = load(ROOT / "infra" / "api.yaml")["Parameters"]
    assert params["StageName"]["Default"] == prod_stage()["api_gateway_stage"]


def test_table_name_matches_the_chalice_stage() -> None:
    table = ROOT / "infra" / "table.yaml"
    if not table.exists():
        pytest.skip("infra/table.yaml is not there yet")
    params = load(table)["Parameters"]
    assert (
        params["TableName"]["Default"]
        == prod_stage()["environment_variables"]["TABLE_NAME"]
    )


def test_usage_plans_are_the_apps_tiers() -> None:
    """One source of truth: chalicelib/ratelimit.py's PLANS (the app's own counter and its
    RateLimit headers) and the partner tiers equal infra/api.yaml's usage plans."""
    from chalicelib.partners import TIERS as PARTNER_TIERS
    from chalicelib.ratelimit import PLANS

    plans = usage_plans()
    assert tuple(PLANS) == PARTNER_TIERS == TIERS
    for tier, plan in PLANS.items():
        got = plans[tier]
        assert got["Throttle"] == {"RateLimit": plan.rate, "BurstLimit": plan.burst}, (
            tier
        )
        assert got["Quota"] == {"Limit": plan.quota, "Period": plan.period}, tier
