"""Horizon: a fleet of WhatsApp AI assistants, run as code."""

__version__ = "0.1.0"
