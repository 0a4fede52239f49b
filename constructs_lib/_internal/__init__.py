"""Internals shared by the constructs: validation, alarms, runtime-code assets. Not public API."""
