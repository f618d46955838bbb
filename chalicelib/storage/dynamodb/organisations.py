"""Organisation workspaces (issue 18): one partition ``ORG#<id>`` per organisation, so an
erasure is one Query and batched deletes, and no organisation's items share a key with
another's. Items (``body``: the JSON of organisation_codec.py):

- ``O``: the organisation, with ``current_round`` (N) as its own attribute for conditions;
- ``R#<respondent id>``: a respondent (role, owned sections, hash of the invite token);
- ``A#<round, 6 digits>#<respondent id>``: a respondent's answers in a round;
- ``N#<round, 6 digits>``: a closed round;
- ``T``: the target with the roadmap steps' owners and due quarters.

Answers are written in a transaction with a ConditionCheck that the round is still open;
closing a round advances ``current_round`` conditionally and puts the round item in the same
transaction, so a round is closed once."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.organisations import Organisation, Respondent, RespondentAnswers, Round
from chalicelib.roadmap import Target
from chalicelib.storage import organisation_codec as codec
from chalicelib.storage.dynamodb.client import Cancelled, Table, error_code
from chalicelib.storage.dynamodb.keys import Key, key, s

ORGANISATION_SK = "O"
TARGET_SK = "T"


def organisation_pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def organisation_key(organisation_id: str) -> Key:
    return key(organisation_pk(organisation_id), ORGANISATION_SK)


def respondent_key(organisation_id: str, respondent_id: str) -> Key:
    return key(organisation_pk(organisation_id), f"R#{respondent_id}")


def answers_key(organisation_id: str, round_number: int, respondent_id: str) -> Key:
    return key(
        organisation_pk(organisation_id), f"A#{round_number:06d}#{respondent_id}"
    )


def round_key(organisation_id: str, round_number: int) -> Key:
    return key(organisation_pk(organisation_id), f"N#{round_number:06d}")


def target_key(organisation_id: str) -> Key:
    return key(organisation_pk(organisation_id), TARGET_SK)


def partner_copy_key(partner_id: str, organisation_id: str) -> Key:
    """A partner's list of its organisations: one small item per organisation in the
    partner's own partition (written and deleted with the organisation)."""
    return key(f"PARTNER#{partner_id}", f"ORG#{organisation_id}")


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class OrganisationsMixin(Table):
    def create_organisation(self, org: Organisation) -> bool:
        # a one-item transaction: its ClientRequestToken makes a retried, already applied
        # put succeed instead of failing its own condition
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        **organisation_key(org.id),
                        "body": s(codec.organisation_to_json(org)),
                        "current_round": _n(org.current_round),
                    },
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        if org.partner_id is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **partner_copy_key(org.partner_id, org.id),
                            "created_at": s(org.created_at),
                        },
                    }
                }
            )
        try:
            self._transact(items)
        except Cancelled:
            return False
        return True

    def list_partner_organisations(self, partner_id: str) -> list[Organisation]:
        ids = [
            item["SK"]["S"][4:]
            for item in self._query_partition(
                f"PARTNER#{partner_id}", "ORG#", projection="SK"
            )
        ]
        found: list[Organisation] = []
        for start in range(0, len(ids), 100):  # BatchGetItem's limit
            for item in self._batch_get(
                [organisation_key(i) for i in ids[start : start + 100]]
            ):
                org = codec.organisation_from_json(item["body"]["S"])
                found.append(
                    Organisation(
                        **{
                            **org.__dict__,
                            "current_round": int(item["current_round"]["N"]),
                        }
                    )
                )
        return sorted(found, key=lambda o: (o.created_at, o.id))

    def get_organisation(self, organisation_id: str) -> Organisation | None:
        item = self._get(organisation_key(organisation_id))
        if item is None:
            return None
        org = codec.organisation_from_json(item["body"]["S"])
        return Organisation(
            **{**org.__dict__, "current_round": int(item["current_round"]["N"])}
        )

    def _org_exists(self, organisation_id: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": organisation_key(organisation_id),
                "ConditionExpression": "current_round >= :one",
                "ExpressionAttributeValues": {":one": _n(1)},
            }
        }

    def add_respondent(self, respondent: Respondent) -> bool:
        try:
            self._transact(
                [
                    self._org_exists(respondent.organisation_id),
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **respondent_key(
                                    respondent.organisation_id, respondent.id
                                ),
                                "body": s(codec.respondent_to_json(respondent)),
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        except Cancelled:
            return False
        return True

    def get_respondent(
        self, organisation_id: str, respondent_id: str
    ) -> Respondent | None:
        item = self._get(respondent_key(organisation_id, respondent_id))
        return None if item is None else codec.respondent_from_json(item["body"]["S"])

    def list_respondents(self, organisation_id: str) -> list[Respondent]:
        found = [
            codec.respondent_from_json(item["body"]["S"])
            for item in self._query_partition(organisation_pk(organisation_id), "R#")
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    def put_respondent_answers(self, answers: RespondentAnswers) -> bool:
        try:
            self._transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self.table_name,
                            "Key": organisation_key(answers.organisation_id),
                            "ConditionExpression": "current_round = :n",
                            "ExpressionAttributeValues": {":n": _n(answers.round)},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **answers_key(
                                    answers.organisation_id,
                                    answers.round,
                                    answers.respondent_id,
                                ),
                                "body": s(codec.answers_to_json(answers)),
                            },
                        }
                    },
                ]
            )
        except Cancelled:
            return False
        return True

    def get_respondent_answers(
        self, organisation_id: str, respondent_id: str, round_number: int
    ) -> RespondentAnswers | None:
        item = self._get(answers_key(organisation_id, round_number, respondent_id))
        return None if item is None else codec.answers_from_json(item["body"]["S"])

    def list_respondent_answers(
        self, organisation_id: str, round_number: int
    ) -> list[RespondentAnswers]:
        return [
            codec.answers_from_json(item["body"]["S"])
            for item in self._query_partition(
                organisation_pk(organisation_id), f"A#{round_number:06d}#"
            )
        ]

    def close_round(self, closed: Round) -> bool:
        try:
            self._transact(
                [
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": organisation_key(closed.organisation_id),
                            "UpdateExpression": "SET current_round = :next",
                            "ConditionExpression": "current_round = :n",
                            "ExpressionAttributeValues": {
                                ":n": _n(closed.number),
                                ":next": _n(closed.number + 1),
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **round_key(closed.organisation_id, closed.number),
                                "body": s(codec.round_to_json(closed)),
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        except Cancelled:
            return False
        return True

    def list_rounds(self, organisation_id: str) -> list[Round]:
        return [
            codec.round_from_json(item["body"]["S"])
            for item in self._query_partition(organisation_pk(organisation_id), "N#")
        ]

    def put_target(self, organisation_id: str, target: Target) -> bool:
        # conditional on the organisation being open (not erased, not being erased)
        try:
            self._transact(
                [
                    self._org_exists(organisation_id),
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **target_key(organisation_id),
                                "body": s(codec.target_to_json(target)),
                            },
                        }
                    },
                ]
            )
        except Cancelled:
            return False
        return True

    def get_target(self, organisation_id: str) -> Target | None:
        item = self._get(target_key(organisation_id))
        return None if item is None else codec.target_from_json(item["body"]["S"])

    def delete_organisation(self, organisation_id: str) -> int:
        # close the organisation to writes first (current_round 0: every write of a
        # respondent, its answers or a round is conditional on current_round >= 1), then
        # delete its other items, then the organisation item last: a failure part-way
        # leaves the organisation readable, so the owner's erasure can be repeated
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=organisation_key(organisation_id),
                UpdateExpression="SET current_round = :z",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":z": _n(0)},
            )
        except ClientError as exc:  # only "it does not exist" is expected
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        keys: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": s(organisation_pk(organisation_id))},
            "ProjectionExpression": "PK, SK",
            "ConsistentRead": True,
        }
        while True:  # the whole partition: every item of the organisation
            resp = self._call("query", **query)
            keys += [
                {"PK": i["PK"], "SK": i["SK"]}
                for i in resp.get("Items", [])
                if i["SK"]["S"] != ORGANISATION_SK
            ]
            if not resp.get("LastEvaluatedKey"):
                break
            query["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        for start in range(0, len(keys), 25):  # BatchWriteItem's limit
            self._batch_write(
                [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            )
        gone = self._call(
            "delete_item",
            TableName=self.table_name,
            Key=organisation_key(organisation_id),
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if gone is None:
            return len(keys)
        partner_id = codec.organisation_from_json(gone["body"]["S"]).partner_id
        if partner_id is not None:  # its entry in the partner's list goes last
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=partner_copy_key(partner_id, organisation_id),
            )
        return len(keys) + 1
