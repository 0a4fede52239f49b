"""Unit tests, grouped by the package they test."""
