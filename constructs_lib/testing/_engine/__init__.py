"""The local kit's engine, behind ``LocalKit``. Not public API.

- ``runner``: ``KitEngine``, moto and the hooks started and stopped, the stack stood up, run until quiet; the calls
  made for a principal authorized (``authorize``, ``call``, ``on_api_call``).
- ``moto_hooks``: where the kit joins moto and botocore (each hook calls back into the engine).
- ``authorizer``: the authorization seam (``AccessRequest``, ``Authorizer``, the principal in scope).
- ``authz``: IAM and KMS policy evaluation from the synthesized template (``PolicyStore``).
- ``enforcement``: the authorizer from the template's policies (``PolicyAuthorizer``) and the ``iam=`` modes.
- ``api_access``: the IAM actions and resource ARNs of an API call.
- ``async_invoke``, ``event_sources``, ``rule_targets``, ``executions``: one delivery concern each.
- ``stand_ins``: a test's stand-ins for SageMaker endpoints and API operations.
- ``event_shapes``: the documented shapes of the events and records AWS sends.
- ``resources``, ``template``, ``intrinsics``: the synthesized stack read and stood up on moto.
- ``lambda_runtime``: handlers run in process as the Python runtime runs them.
- ``batch_jobs``: S3 Batch Operations jobs; ``asl``: state machine definitions checked with asl-validator.
- ``versions``: the moto versions the kit supports.
"""

from constructs_lib.testing._engine.versions import check_moto_version

check_moto_version()  # before any module of the engine imports moto's internals
