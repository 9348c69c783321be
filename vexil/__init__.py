"""Vexil: self-hostable feature flags and remote configuration."""

__version__ = "0.1.0"
