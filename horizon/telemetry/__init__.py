"""Logs and metrics: one JSON line per event and Prometheus counters, used by every part."""
