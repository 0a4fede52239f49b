"""The errors of the local kit: what it raises, and what a test's stand-ins raise to answer with an AWS error."""

from __future__ import annotations


class KitError(RuntimeError):
    """The kit could not do what was asked; the message says why and what to do."""


class ServiceError(Exception):
    """Raised by a service stand-in to answer with a specific AWS error (``ThrottlingException``, say)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class EndpointError(ServiceError):
    """Raised by an endpoint stand-in to answer with a specific SageMaker runtime error."""
