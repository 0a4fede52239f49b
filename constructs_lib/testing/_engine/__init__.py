"""The local kit's engine: moto hooks, resource creators, the Lambda runtime, intrinsics. Not public API."""

from constructs_lib.testing._engine.versions import check_moto_version

check_moto_version()  # before any module of the engine imports moto's internals
