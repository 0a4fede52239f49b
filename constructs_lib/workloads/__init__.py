"""Workloads built on the engines, each construct beside the runtime code it deploys (its ``runtime/`` folder)."""
