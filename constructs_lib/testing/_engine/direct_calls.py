"""The kit's own SendMessage and Publish calls answered by moto's handler for them, in process.

A rule target's delivery and a state machine's SQS or SNS task call botocore, which serialises the request, signs it
and hands it to moto's HTTP dispatch, which routes and parses it, runs moto's handler, serialises the answer, which
botocore parses again: about 2-3 ms a call, most of a failed execution's cost in the kit. These calls (never a
handler's: its client may carry event hooks of the user's) are authorized and faulted by the API-call hook as before,
then given to moto's response class for the operation with the parameters botocore validated, and its answer is
returned as botocore returns it.

A call this path does not answer exactly as the API path would goes through botocore: an operation not listed, binary
message attributes (botocore base64-encodes them on the wire), a service a test stands in for, or SendMessage refused
by moto (before anything is sent: the API path then raises botocore's error for it, with SQS's query-compatible error
codes). A Publish refused by moto is raised as the botocore error the API path raises: moto may have delivered to
some subscriptions before one refused, so it is never made again.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.botocore_answers import client_error, response_metadata
from constructs_lib.testing._engine.json_copy import json_copy

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

NOT_ANSWERED = object()
"""What ``call`` returns when the API path must answer."""

KIT_CALLERS = frozenset({"rule-target", "state-machine-task"})
"""The ``via`` of the kit's own callers (see ``authorizer.acting``): their clients carry no hooks of the user's."""


@functools.cache
def _responses() -> dict[tuple[str, str], tuple[type[Any], str]]:
    from moto.sns.responses import SNSResponse
    from moto.sqs.responses import SQSResponse

    return {("sqs", "SendMessage"): (SQSResponse, "send_message"), ("sns", "Publish"): (SNSResponse, "publish")}


def call(engine: KitEngine, client: Any, operation: str, params: dict[str, Any]) -> Any:
    """The answer of moto's handler for ``operation`` with ``params`` (already authorized), or ``NOT_ANSWERED``."""
    from botocore.validate import ParamValidationDecorator, validate_parameters
    from moto.core.exceptions import ServiceException
    from werkzeug.exceptions import HTTPException  # the base of moto's older REST errors

    service = client.meta.service_model.service_name
    handler = _responses().get((service, operation))
    if handler is None or engine.stands_in_for(service) or _binary_attributes(params):
        return NOT_ANSWERED
    operation_model = client.meta.service_model.operation_model(operation)
    # botocore's own check (a ParamValidationError before anything is sent), where the client makes it: its
    # serializer validates unless the client was made with parameter_validation=False (moto's task clients are).
    if isinstance(getattr(client, "_serializer", None), ParamValidationDecorator):
        validate_parameters(params, operation_model.input_shape)
    response_class, method = handler
    response = response_class()
    response.region = client.meta.region_name
    response.current_account = engine.stack.account
    response.params = json_copy(params)  # the handler may change what it reads
    response.uri_match = {}
    response.querystring = {"Action": [operation]}
    response.headers = {}
    response.body = None
    response.response_headers = {}
    try:
        result = getattr(response, method)().result
    except (HTTPException, ServiceException, ValueError) as refused:
        if service == "sqs":
            return NOT_ANSWERED
        raise client_error(client, operation, refused) from None
    # As botocore parses it: the output shape's members, in its order
    members = operation_model.output_shape.members
    return {**{name: result[name] for name in members if name in result}, "ResponseMetadata": response_metadata()}


def _binary_attributes(params: dict[str, Any]) -> bool:
    for key in ("MessageAttributes", "MessageSystemAttributes"):
        for value in (params.get(key) or {}).values():
            if not isinstance(value, dict) or "StringValue" not in value:
                return True
    return False
