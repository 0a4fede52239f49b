"""Slack: the error-reporting layer and the failure-record notifier."""
