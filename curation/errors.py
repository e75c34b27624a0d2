"""Errors from curation that reach people as one line (bad files, bad exports)."""


class CurationError(Exception):
    """A user-facing curation failure: the message names the file, line or path."""
