"""Where the example stacks' alarms and alert topics go: topics a deployer subscribes to.

Deploy with ``-c alertEmail=you@example.com`` to get them by e-mail (SNS sends a confirmation first); either way each
topic's ARN is a stack output, for any other subscription.
"""

from __future__ import annotations

import re

from aws_cdk import Aspects, CfnOutput, Stack
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from constructs_lib import AlarmActions
from constructs_lib.defaults import secure_topic

ALERT_EMAIL_CONTEXT = "alertEmail"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def alarm_topic(stack: Stack) -> sns.Topic:
    """``AlarmTopic``: every alarm of ``stack`` without an action of its own publishes to it (``AlarmActions``),
    and it goes to the deployer."""
    topic = secure_topic(stack, "AlarmTopic")
    Aspects.of(stack).add(AlarmActions(topic))
    to_deployer(stack, topic, "AlarmTopic", "Every alarm of this stack")
    return topic


def to_deployer(stack: Stack, topic: sns.ITopic, name: str, what: str) -> None:
    """Subscribe the ``alertEmail`` context value to ``topic`` (when given) and output its ARN as ``<name>Arn``."""
    email = stack.node.try_get_context(ALERT_EMAIL_CONTEXT)
    if email:
        if not isinstance(email, str) or not _EMAIL.match(email):
            raise ValueError(
                f"context {ALERT_EMAIL_CONTEXT} must be an e-mail address (cdk deploy -c "
                f"{ALERT_EMAIL_CONTEXT}=you@example.com), got {email!r}"
            )
        topic.add_subscription(subscriptions.EmailSubscription(email))
    CfnOutput(
        stack,
        f"{name}Arn",
        value=topic.topic_arn,
        description=f"{what} publishes here: deploy with -c {ALERT_EMAIL_CONTEXT}=<address>, or subscribe to it",
    )
