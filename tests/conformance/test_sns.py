"""Amazon SNS: subscription filter policies (attributes and message body) and raw message delivery."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution


def test_filter_policies_match_attributes_or_the_message_body_and_raw_delivery_sends_the_body_alone(
    plain_app: cdk.App,
) -> None:
    """SNS: a filter policy matches message attributes (scope MessageAttributes, the default) or the message body
    (scope MessageBody); a subscription whose policy does not match gets nothing.

    AWS: https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html
    Kit: the subscription's FilterPolicy and FilterPolicyScope from the template, with moto's policy matcher.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Kit")
    topic = sns.Topic(stack, "Orders")
    by_attribute, by_body = sqs.Queue(stack, "Red"), sqs.Queue(stack, "Gold")
    topic.add_subscription(
        subscriptions.SqsSubscription(
            by_attribute,
            raw_message_delivery=True,
            filter_policy={"colour": sns.SubscriptionFilter.string_filter(allowlist=["red"])},
        )
    )
    topic.add_subscription(
        subscriptions.SqsSubscription(
            by_body,
            raw_message_delivery=True,
            filter_policy_with_message_body={
                "tier": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=["gold"]))
            },
        )
    )
    with LocalKit.from_stack(stack) as kit:
        kit.publish("Orders", {"orderId": "o-1", "tier": "gold"}, attributes={"colour": "blue"})
        kit.publish("Orders", {"orderId": "o-2", "tier": "basic"}, attributes={"colour": "red"})
        kit.publish("Orders", {"orderId": "o-3"})
        red, gold = kit.messages("Red"), kit.messages("Gold")

    assert red == [{"orderId": "o-2", "tier": "basic"}]
    assert gold == [{"orderId": "o-1", "tier": "gold"}]


def test_without_raw_delivery_a_queue_gets_the_sns_envelope(plain_app: cdk.App) -> None:
    """SNS: without raw message delivery, an SQS subscriber gets the JSON notification (Type, MessageId, TopicArn,
    Message, MessageAttributes...); with it, the message body alone.

    AWS: https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
    Kit: moto's envelope for the queue without RawMessageDelivery; the body alone for the one with it.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Kit")
    topic = sns.Topic(stack, "Orders")
    topic.add_subscription(subscriptions.SqsSubscription(sqs.Queue(stack, "Enveloped")))
    topic.add_subscription(subscriptions.SqsSubscription(sqs.Queue(stack, "Raw"), raw_message_delivery=True))
    with LocalKit.from_stack(stack) as kit:
        kit.publish("Orders", {"orderId": "o-1"}, subject="New order", attributes={"colour": "red"})
        (enveloped,), raw = kit.messages("Enveloped"), kit.messages("Raw")
        topic_arn = kit.ref("Orders")

    assert raw == [{"orderId": "o-1"}]
    assert enveloped["Type"] == "Notification"
    assert enveloped["TopicArn"] == topic_arn
    assert enveloped["Subject"] == "New order"
    assert enveloped["Message"] == '{"orderId": "o-1"}'
    assert enveloped["MessageAttributes"] == {"colour": {"Type": "String", "Value": "red"}}
    assert {"MessageId", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(
        enveloped
    )
