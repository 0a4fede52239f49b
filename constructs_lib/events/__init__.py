"""EventBridge around the engines: rules feeding routes, execution-status notifications, event patterns."""
