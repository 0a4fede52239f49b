"""Local test kit: run and check what was synthesized, with no AWS account.

``LocalKit`` stands a synthesized stack up on moto, in process, and runs it with the real handler code;
``validate_definition`` and ``state_machine_definitions`` check state machines with asl-validator;
``template_snapshot`` and ``cloud_assembly_snapshot`` turn templates into snapshots stable across machines and CDK
releases; ``wildcard_resource_problems`` finds identity policies that grant actions on every resource
(``Resource: "*"``) beyond ``ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS``.
Install with the ``testing`` extra (moto and boto3), and ``npm install --save-dev asl-validator@4.0.0`` in the project
(or name its executable in ``$ASL_VALIDATOR``).
"""

from __future__ import annotations

from constructs_lib.testing._engine.asl import AslValidationError, state_machine_definitions, validate_definition
from constructs_lib.testing._engine.batch_jobs import (
    BatchJobRefused,
    BatchJobReport,
    BatchTaskResult,
    read_completion_report,
)
from constructs_lib.testing._engine.code_server import CodeDownload
from constructs_lib.testing._engine.intrinsics import Physical, TemplateError
from constructs_lib.testing._engine.lambda_runtime import (
    Invocation,
    LambdaContext,
    LocalFunction,
    RuntimeStandInWarning,
)
from constructs_lib.testing._engine.template import SynthesizedStack
from constructs_lib.testing.iam import (
    ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
    IdentityPolicy,
    WildcardProblem,
    identity_policies,
    wildcard_resource_problems,
)
from constructs_lib.testing.kit import (
    EndpointError,
    EndpointHandler,
    Faults,
    IamMode,
    KitError,
    LocalKit,
    ServiceError,
    ServiceHandler,
)
from constructs_lib.testing.results import (
    AccessDenial,
    AsyncInvocation,
    Delivery,
    DurableExecutionResult,
    ExecutionResult,
    VirtualWait,
)
from constructs_lib.testing.snapshot import cloud_assembly_snapshot, template_snapshot

__all__ = [
    "ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS",
    "AccessDenial",
    "AslValidationError",
    "AsyncInvocation",
    "BatchJobRefused",
    "BatchJobReport",
    "BatchTaskResult",
    "CodeDownload",
    "Delivery",
    "DurableExecutionResult",
    "EndpointError",
    "EndpointHandler",
    "ExecutionResult",
    "Faults",
    "IamMode",
    "IdentityPolicy",
    "Invocation",
    "KitError",
    "LambdaContext",
    "LocalFunction",
    "LocalKit",
    "Physical",
    "RuntimeStandInWarning",
    "ServiceError",
    "ServiceHandler",
    "SynthesizedStack",
    "TemplateError",
    "VirtualWait",
    "WildcardProblem",
    "cloud_assembly_snapshot",
    "identity_policies",
    "read_completion_report",
    "state_machine_definitions",
    "template_snapshot",
    "validate_definition",
    "wildcard_resource_problems",
]
