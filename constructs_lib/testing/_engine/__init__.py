"""Internals of the local test kit: policy evaluation and other machinery the public facade calls."""
