"""What botocore hands back for a call the kit answers itself (no request on the wire): the answer's response
metadata, and a refusal as the ``ClientError`` botocore raises for its error code."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


def response_metadata() -> dict[str, Any]:
    """The ``ResponseMetadata`` of a successful answer, as botocore parses one."""
    return {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4()), "HTTPHeaders": {}, "RetryAttempts": 0}


def botocore_error(client: Any, operation: str, code: str, status: int, message: str) -> ClientError:
    """The error ``client`` raises for a refusal with ``code``: botocore's class for that code where the service
    models one (SNS's ``AuthorizationErrorException``...), else ``ClientError``."""
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
    }
    error: ClientError = client.exceptions.from_code(code)(response, operation)
    return error


def client_error(client: Any, operation: str, refused: Exception) -> ClientError:
    """A moto refusal as the ``ClientError`` botocore raises for it. moto's errors name their code in
    ``error_type`` (``JsonRESTError``) or ``code`` (``ServiceException``), or, for the Step Functions parser's
    ``AWSError`` classes, only in their class name; the HTTP status is ``status_code`` or an integer ``code``."""
    given = getattr(refused, "code", None)
    code = str(
        getattr(refused, "relative_error_type", None)
        or getattr(refused, "error_type", None)
        or (given if isinstance(given, str) else type(refused).__name__)
    )
    status = getattr(refused, "status_code", None) or (given if isinstance(given, int) else 400)
    return botocore_error(client, operation, code, status, str(getattr(refused, "message", refused)))
