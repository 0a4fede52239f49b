"""Where the kit asks whether a principal may make a call: the ``Authorizer`` seam.

Every call the kit makes on a principal's behalf is put to the engine's authorizer first, as an ``AccessRequest``:
the principal (a role ARN, or a service principal such as ``events.amazonaws.com``), the IAM action and the
resource's ARN. The engine's authorizer decides from the template's policies (``enforcement.PolicyAuthorizer``), or
allows everything (``AllowAll``, ``iam="off"``). A call reaches the authorizer in one of two ways:

- an AWS API call made through botocore while a principal is in scope (``acting_as``): the kit's deliveries by a
  role or a service, a handler's own calls (its thread runs as its function's role), a state machine task's calls
  (its thread runs as the state machine's role). The API-call hook maps the operation and its parameters to IAM
  actions and resources (``api_access``) and asks; a refusal fails the call with ``AccessDenied``, as on AWS;
- a delivery the kit or moto makes in process (an asynchronous invocation, SNS or S3 to a queue or a function): the
  engine asks before it delivers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccessRequest:
    """One call to authorize."""

    principal: str
    """The role ARN the call is made with, or the service principal (``sns.amazonaws.com``) that makes it."""
    action: str
    """The IAM action: ``sqs:SendMessage``."""
    resource: str
    """The ARN of the resource acted on, or ``*`` for an action on no resource."""
    source_arn: str | None = None
    """For a service principal, the resource it acts for (``aws:SourceArn``): the rule, topic or bucket."""
    source_account: str | None = None
    """For a service principal, the account that owns ``source_arn`` (``aws:SourceAccount``)."""
    via: str = ""
    """What made the call: ``handler``, ``state-machine-task``, ``destination``, ``dead-letter``, ``event-source``,
    ``rule-target``, ``rule-target-dead-letter``, ``sns-subscription``, ``sns-subscription-dead-letter``,
    ``s3-notification`` or ``s3-batch``."""


class AccessDenied(Exception):
    """An authorizer's refusal; the message says what was missing."""

    def __init__(
        self,
        request: AccessRequest,
        reason: str,
        *,
        message: str | None = None,
        missing: tuple[str, ...] = (),
        kms: bool = False,
    ) -> None:
        """
        :param reason: why, in words.
        :param message: the whole message. :default: - ``<principal> is not authorized to perform <action> on
            <resource>: <reason>``
        :param missing: the actions no policy allowed. :default: - the request's action
        :param kms: whether what was missing is the KMS actions on the key that encrypts the resource (services
            answer those with their own error codes).
        """
        super().__init__(
            message
            or f"{request.principal} is not authorized to perform {request.action} on {request.resource}: {reason}"
        )
        self.request = request
        self.reason = reason
        self.missing = missing or (request.action,)
        self.kms = kms


class Authorizer(Protocol):
    """Decides each call the kit makes for a principal."""

    def authorize(self, request: AccessRequest) -> None:
        """Return to allow the call; raise ``AccessDenied`` to refuse it."""


class AllowAll:
    """The default: every call is allowed."""

    def authorize(self, request: AccessRequest) -> None:
        return None


@dataclass(frozen=True)
class Acting:
    """The principal API calls are made for, in this thread."""

    principal: str
    source_arn: str | None
    via: str


_ACTING: ContextVar[Acting | None] = ContextVar("local_kit_acting", default=None)


@contextmanager
def acting_as(principal: str | None, *, source_arn: str | None = None, via: str = "") -> Iterator[None]:
    """API calls made inside (in this thread) are made for ``principal``; ``None``: by the kit itself, which
    nobody authorizes (standing the stack up, reading it back, looking a queue's URL up)."""
    token = _ACTING.set(None if principal is None else Acting(principal, source_arn, via))
    try:
        yield
    finally:
        _ACTING.reset(token)


def act_as(principal: str, *, via: str) -> None:
    """Make ``principal`` the one this thread's API calls are made for, until the thread ends: for a thread that
    exists to run one principal's work (a state machine task's)."""
    _ACTING.set(Acting(principal, None, via))


def acting() -> Acting | None:
    """The principal this thread's API calls are made for, if any."""
    return _ACTING.get()
