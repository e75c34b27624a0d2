"""Errors from curation that reach people as one line (bad files, bad exports)."""


class CurationError(Exception):
    """A user-facing curation failure: the message names the file, line or path."""


class LifecycleError(Exception):
    """A request the retrain flow cannot honour (no such run, not held, nothing
    in flight, nothing to roll back to); the message says what to do instead."""
