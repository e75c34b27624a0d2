"""Slack listeners, one module per surface; each exposes `register(app, ...)`.

Listeners only translate payloads into calls on plain functions, and they run
on the threads that ack, so they do only cheap work there: votes and
corrections are written before the ack; model calls go to the reply pool and
curation to its own, so no ack ever waits behind them.
"""
