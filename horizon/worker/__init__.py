"""Answering stored messages: per-user order, coalescing, the model call and the reply."""
