"""Unit tests of the local test kit's internals."""
