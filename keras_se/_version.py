"""The package version: one home that every room may read."""

__version__ = "0.1.0"
