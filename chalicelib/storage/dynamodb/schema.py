"""Create a DynamoDB table from the CloudFormation template that deploys it (infra/table.yaml).

Tests and the benchmark build their DynamoDB Local table with :func:`ensure_table_from_template`,
so the key schema, attribute definitions, billing mode, secondary indexes, encryption setting
and TTL attribute they run against are the ones production gets. Point-in-time recovery,
tags, deletion protection and the deletion/replace policies are deployment concerns with no
effect on behaviour (and DynamoDB Local does not implement point-in-time recovery), so they
are not applied here.

The template uses CloudFormation's short-form intrinsic tags (``!Ref``, ``!Sub``,
``!GetAtt``...), which a plain YAML loader rejects; :func:`load_template` maps each one to its
long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) without evaluating it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

TABLE_RESOURCE_TYPE = "AWS::DynamoDB::Table"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short-form intrinsic function tags."""


def _intrinsic(
    loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node
) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(doc, dict):
        raise TypeError(f"{path}: not a CloudFormation template (not a mapping)")
    if not doc.get("Resources"):
        raise ValueError(f"{path}: not a CloudFormation template (no Resources)")
    return doc


def table_properties(template: dict[str, Any]) -> dict[str, Any]:
    """Properties of the template's only ``AWS::DynamoDB::Table`` resource."""
    tables = [
        r.get("Properties") or {}
        for r in template["Resources"].values()
        if isinstance(r, dict) and r.get("Type") == TABLE_RESOURCE_TYPE
    ]
    if len(tables) != 1:
        raise ValueError(
            f"expected exactly one {TABLE_RESOURCE_TYPE}, found {len(tables)}"
        )
    return dict(tables[0])


def _literal(value: Any, what: str) -> Any:
    """Refuse intrinsic functions where this helper needs a literal value."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key == "Ref" or str(key).startswith("Fn::"):
            raise ValueError(f"{what}: intrinsic function {key} is not supported here")
    return value


def _index(cfn: dict[str, Any], billing_mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "IndexName": _literal(cfn["IndexName"], "IndexName"),
        "KeySchema": _literal(cfn["KeySchema"], "KeySchema"),
        "Projection": _literal(cfn["Projection"], "Projection"),
    }
    if billing_mode == "PROVISIONED" and "ProvisionedThroughput" in cfn:
        out["ProvisionedThroughput"] = cfn["ProvisionedThroughput"]
    return out


def create_table_args(template: dict[str, Any], table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments equivalent to the template's table (TableName overridden)."""
    props = table_properties(template)
    billing_mode = _literal(props.get("BillingMode", "PROVISIONED"), "BillingMode")
    args: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _literal(props["KeySchema"], "KeySchema"),
        "AttributeDefinitions": _literal(
            props["AttributeDefinitions"], "AttributeDefinitions"
        ),
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        args["ProvisionedThroughput"] = _literal(
            props["ProvisionedThroughput"], "ProvisionedThroughput"
        )
    gsis = props.get("GlobalSecondaryIndexes") or []
    if gsis:
        args["GlobalSecondaryIndexes"] = [_index(g, billing_mode) for g in gsis]
    lsis = props.get("LocalSecondaryIndexes") or []
    if lsis:
        args["LocalSecondaryIndexes"] = [_index(i, "PAY_PER_REQUEST") for i in lsis]
    sse = props.get("SSESpecification")
    if sse:
        spec: dict[str, Any] = {
            "Enabled": bool(_literal(sse.get("SSEEnabled"), "SSEEnabled"))
        }
        if "SSEType" in sse:
            spec["SSEType"] = _literal(sse["SSEType"], "SSEType")
        if "KMSMasterKeyId" in sse:
            spec["KMSMasterKeyId"] = _literal(sse["KMSMasterKeyId"], "KMSMasterKeyId")
        args["SSESpecification"] = spec
    stream = props.get("StreamSpecification")
    if stream:
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": _literal(stream["StreamViewType"], "StreamViewType"),
        }
    return args


def ttl_attribute(template: dict[str, Any]) -> str | None:
    spec = table_properties(template).get("TimeToLiveSpecification") or {}
    if not spec.get("Enabled"):
        return None
    return str(_literal(spec["AttributeName"], "TimeToLiveSpecification.AttributeName"))


def ensure_table_from_template(
    client: Any, template_path: str | Path, table_name: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Create ``table_name`` as the template defines it (unless it exists), wait until it is
    ACTIVE, enable its TTL attribute, and return ``DescribeTable``'s ``Table``."""
    template = load_template(template_path)
    try:
        client.create_table(**create_table_args(template, table_name))
    except client.exceptions.ResourceInUseException:
        pass  # already there: keep it (ensure, not recreate)
    deadline = time.monotonic() + timeout
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes") or []
        if table["TableStatus"] == "ACTIVE" and all(
            i.get("IndexStatus") == "ACTIVE" for i in indexes
        ):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} not ACTIVE after {timeout} s")
        time.sleep(0.2)
    ttl = ttl_attribute(template)
    if ttl:
        current = client.describe_time_to_live(TableName=table_name)[
            "TimeToLiveDescription"
        ]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
            )
    return dict(table)
