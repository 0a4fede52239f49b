"""Internals shared by the constructs: validation, alarms, metrics, runtime-code assets. Not public API."""
