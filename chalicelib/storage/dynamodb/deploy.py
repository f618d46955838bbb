"""What scripts/package.sh merges into Chalice's SAM template for the stream aggregator
(issue 15; docs/DEPLOY.md, "Stream aggregation"). Pure data, no boto3.

Chalice's ``on_dynamodb_record`` declares the event source (stream, batch size, starting
position) but none of the failure handling, so the event source's properties are completed
here: ReportBatchItemFailures (the handler returns ``batchItemFailures``),
BisectBatchOnFunctionError, MaximumRetryAttempts 5, an SQS on-failure destination (the
dead-letter path: Lambda sends the failed batch's shard and sequence range), a filter that
invokes the function for assessment items only, and the stream ARN from the table stack's
export. Two alarms: the function's IteratorAge (records waiting longer than 5 minutes) and
any message on the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

FUNCTION = "AggregateStream"  # Chalice's resource name of app.aggregate_stream
EVENT = "AggregateStreamDynamodbEventSource"
QUEUE = "AggregateStreamFailures"
MAX_RETRIES = 5
ITERATOR_AGE_ALARM_MS = 300_000  # 5 minutes behind the stream
ASSESSMENTS_ONLY = {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "ASSESSMENT#"}]}}}}


def stream_merge_template(
    table_stack: str = "smm-benchmark-prod-table",
) -> dict[str, Any]:
    return {
        "Resources": {
            FUNCTION: {
                "Properties": {
                    "Events": {
                        EVENT: {
                            "Properties": {
                                "Stream": {
                                    "Fn::ImportValue": f"{table_stack}-StreamArn"
                                },
                                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                                "BisectBatchOnFunctionError": True,
                                "MaximumRetryAttempts": MAX_RETRIES,
                                "MaximumRecordAgeInSeconds": 86_400,
                                "DestinationConfig": {
                                    "OnFailure": {
                                        "Type": "SQS",
                                        "Destination": {"Fn::GetAtt": [QUEUE, "Arn"]},
                                    }
                                },
                                "FilterCriteria": {
                                    "Filters": [
                                        {"Pattern": json.dumps(ASSESSMENTS_ONLY)}
                                    ]
                                },
                            }
                        }
                    },
                }
            },
            QUEUE: {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "MessageRetentionPeriod": 1_209_600,  # 14 days to look at a failure
                    "SqsManagedSseEnabled": True,
                },
            },
            "AggregateStreamIteratorAgeAlarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": "The stream aggregator is more than 5 minutes behind"
                    " the table's stream (docs/DEPLOY.md, Stream aggregation).",
                    "Namespace": "AWS/Lambda",
                    "MetricName": "IteratorAge",
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}
                    ],
                    "Statistic": "Maximum",
                    "Period": 60,
                    "EvaluationPeriods": 5,
                    "Threshold": ITERATOR_AGE_ALARM_MS,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": "notBreaching",
                },
            },
            "AggregateStreamFailuresAlarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": "A stream batch failed after every retry: its shard"
                    " and sequence range are on the queue (docs/DEPLOY.md).",
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [
                        {
                            "Name": "QueueName",
                            "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]},
                        }
                    ],
                    "Statistic": "Maximum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": 0,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": "notBreaching",
                },
            },
        },
        "Outputs": {
            "StreamFailureQueueUrl": {
                "Description": "Where the stream aggregator's failed batches go.",
                "Value": {"Ref": QUEUE},
            }
        },
    }
