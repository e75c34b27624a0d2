"""Slack listeners, one module per surface; each exposes `register(app, ...)`.

Listeners only translate payloads into calls on plain functions. Bolt acks
events before the listener body runs, so model calls never delay the ack.
"""
