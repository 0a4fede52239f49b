"""The kit's authorizer from the stack's own policies: each request decided by ``authz.PolicyStore`` as AWS decides it,
with the KMS actions the service performs on the customer managed key of the resource (``authorize_call``).

``LocalKit(iam=...)`` picks the mode: ``enforce`` refuses what AWS would refuse (the call fails as it fails on AWS),
``warn`` lets it through and reports it, ``off`` allows everything (``authorizer.AllowAll``). Each refusal is recorded
as an ``AccessDenial``. A request the evaluator cannot decide for certain (an unknown condition key, a policy it could
not resolve) is allowed, as the evaluator's lenient verdict, with a warning that names the statement and why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from constructs_lib.testing._engine.authorizer import AccessDenied, AccessRequest
from constructs_lib.testing._engine.authz import ContextValue, Decision, PolicyStore, Principal
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import AccessDenial

IamMode = Literal["enforce", "warn", "off"]
"""How ``LocalKit`` treats a call the template's IAM and KMS policies do not allow: ``"enforce"`` fails it as AWS
does, ``"warn"`` lets it through with a warning, ``"off"`` checks nothing (see ``LocalKit(iam=...)``)."""
IAM_MODES: tuple[IamMode, ...] = ("enforce", "warn", "off")


def checked_mode(value: str) -> IamMode:
    """``value`` as an ``iam=`` mode, or a ``KitError`` that lists the modes."""
    for mode in IAM_MODES:
        if value == mode:
            return mode
    raise KitError(f"iam must be one of {', '.join(repr(m) for m in IAM_MODES)}, got {value!r}")


class PolicyAuthorizer:
    """Decides each request from one template's policies; decisions are cached (the template does not change while
    the kit runs, and a workflow asks the same questions again and again)."""

    def __init__(
        self,
        store: PolicyStore,
        *,
        enforce: bool,
        on_denial: Callable[[AccessDenial], None],
        on_warning: Callable[[str], None],
    ) -> None:
        self._store = store
        self._enforce = enforce
        self._on_denial = on_denial
        self._on_warning = on_warning
        self._decisions: dict[tuple[str, str, str, str | None, str | None], Decision] = {}
        self._principals: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def authorize(self, request: AccessRequest) -> None:
        decision = self.decide(request)
        for warning in decision.warnings:
            self._on_warning(warning)
        if decision.allowed:
            return
        denial = AccessDenial(
            principal=str(decision.principal),
            principal_arn=request.principal,
            action=request.action,
            resource=request.resource,
            missing=decision.missing,
            message=decision.reason,
            via=request.via,
            enforced=self._enforce,
        )
        self._on_denial(denial)
        if self._enforce:
            raise AccessDenied(
                request, decision.basis, message=decision.reason, missing=decision.missing, kms=denial.kms
            )

    def decide(self, request: AccessRequest) -> Decision:
        """The evaluator's decision on ``request`` (cached)."""
        key = (request.principal, request.action, request.resource, request.source_arn, request.source_account)
        with self._lock:
            found = self._decisions.get(key)
        if found is None:
            principal = self._principal(request.principal)
            found = self._store.authorize_call(
                principal, request.action, request.resource, _context(request, principal)
            )
            with self._lock:
                self._decisions[key] = found
        return found

    def forget(self) -> None:
        """Drop the cached decisions (each request is evaluated again)."""
        with self._lock:
            self._decisions.clear()

    def _principal(self, name: str) -> Principal:
        with self._lock:
            found = self._principals.get(name)
        if found is None:
            if not name.startswith("arn:"):
                found = Principal.service(name)
            else:
                try:
                    found = self._store.role(name)
                except KeyError:  # a role from outside the template: the evaluator says it cannot know its policies
                    found = Principal.role(name)
            with self._lock:
                self._principals[name] = found
        return found


def _context(request: AccessRequest, principal: Principal) -> dict[str, ContextValue]:
    # aws:SourceArn and aws:SourceAccount are in the request context only when a service acts on behalf of one of
    # its resources (reference_policies_condition-keys); a role's own calls never carry them.
    context: dict[str, ContextValue] = {}
    if principal.kind == "service" and request.source_arn:
        context["aws:SourceArn"] = request.source_arn
        if request.source_account:
            context["aws:SourceAccount"] = request.source_account
    return context
