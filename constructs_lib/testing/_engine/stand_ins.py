"""A test's stand-ins for what the kit cannot run: a callable per SageMaker endpoint, and per API operation of a
service that speaks JSON (``comprehend:DetectSentiment``); what each got is recorded as a delivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine import moto_hooks
from constructs_lib.testing.errors import EndpointError, KitError, ServiceError
from constructs_lib.testing.results import parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine
    from constructs_lib.testing.kit import EndpointHandler, ServiceHandler


class StandIns:
    """The endpoint and service stand-ins of one kit."""

    def __init__(
        self, engine: KitEngine, endpoints: Mapping[str, EndpointHandler], services: Mapping[str, ServiceHandler]
    ) -> None:
        self._engine = engine
        self._endpoints = dict(endpoints)
        self._services = _checked_services(services)
        self._stand_in_services = {key.split(":", 1)[0] for key in self._services}

    def name_endpoints(self) -> None:
        """Key the endpoint stand-ins by endpoint name (a test may name an endpoint by its construct path)."""
        resources = self._engine.resources
        by_name: dict[str, EndpointHandler] = {}
        for key, handler in self._endpoints.items():
            try:
                logical = resources.logical_id(key, of_type="AWS::SageMaker::Endpoint")
            except KeyError:
                by_name[key] = handler
            else:
                by_name[resources.endpoints[logical]] = handler
        self._endpoints = by_name

    def invoke_endpoint(self, endpoint_name: str, body: bytes, content_type: str, accept: str | None) -> Any:
        """The answer to ``InvokeEndpoint``: moto's ``(status, headers, body)``."""
        self._engine.record("sagemaker", endpoint_name, body, {"content_type": content_type, "accept": accept})
        handler = self._endpoints.get(endpoint_name)
        if handler is None:
            known = ", ".join(sorted(self._endpoints)) or "none"
            return _error_response(
                400,
                "ValidationError",
                f"Endpoint {endpoint_name} of account {self._engine.stack.account} not found. "
                f"(local kit: pass endpoints={{'{endpoint_name}': handler}}; it has: {known})",
            )
        try:
            answer = handler(body, content_type)
        except EndpointError as error:
            return _error_response(error.status, error.code, str(error))
        except Exception as error:
            return _error_response(
                424,
                "ModelError",
                f'Received server error (500) from primary with message "{type(error).__name__}: {error}".',
            )
        response_type = "application/json"
        if isinstance(answer, tuple):
            answer, response_type = answer
        if isinstance(answer, bytes):
            data = answer
        elif isinstance(answer, str):
            data = answer.encode()
        else:
            data = json.dumps(answer).encode()
        return 200, {"Content-Type": response_type, "x-Amzn-Invoked-Production-Variant": "AllTraffic"}, data

    def stands_in_for(self, service: str) -> bool:
        return service in self._stand_in_services

    def call(self, service: str, operation: str, body: Any) -> Any:
        """The stand-in's answer to one API call, or ``NOT_OURS`` when the test gave none for the operation."""
        handler = self._services.get(f"{service}:{operation}")
        if handler is None:
            return moto_hooks.NOT_OURS
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        request = parse_json(text) if text else {}
        self._engine.record("service", f"{service}:{operation}", request, {})
        try:
            answer = handler(request if isinstance(request, dict) else {})
        except ServiceError as error:
            return moto_hooks.ServiceAnswerError(error.code, str(error), error.status)
        except Exception as error:
            return moto_hooks.ServiceAnswerError("InternalFailure", f"{type(error).__name__}: {error}", 500)
        return dict(answer or {})


def _checked_services(given: Mapping[str, ServiceHandler]) -> dict[str, ServiceHandler]:
    """Check the keys (``service:Operation``, as in IAM) up front, with the fix in the message."""
    if not given:
        return {}
    import botocore.session

    session = botocore.session.get_session()
    handlers: dict[str, ServiceHandler] = {}
    for key, handler in given.items():
        service, _, operation = key.partition(":")
        try:
            model = session.get_service_model(service)
        except Exception as error:
            raise KitError(
                f"services: {key!r} names no AWS service {service!r}; e.g. 'comprehend:DetectSentiment'"
            ) from error
        if operation not in model.operation_names:
            raise KitError(
                f"services: {service} has no operation {operation!r}; it has e.g. {model.operation_names[:3]}"
            )
        handlers[f"{service}:{operation}"] = handler
    return handlers


def _error_response(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    return (
        status,
        {"status": str(status), "x-amzn-ErrorType": code, "Content-Type": "application/json"},
        json.dumps({"__type": code, "message": message}),
    )
