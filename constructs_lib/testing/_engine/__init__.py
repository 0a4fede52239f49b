"""The local kit's engine: moto hooks, resource creators, the Lambda runtime, intrinsics. Not public API."""
