"""Failures that reach people: each carries a message saying what to do next."""

from curation import CurationError, LifecycleError
from storage import RunInFlightError, StorageError


class UserFacingError(Exception):
    """An error whose message is shown as-is, on one line, at the CLI's edge."""


# Everything the CLI turns into one line on stderr instead of a traceback.
USER_FACING: tuple[type[Exception], ...] = (
    UserFacingError,
    CurationError,
    StorageError,
    # The retrain flow's refusals (nothing to roll back to, a run already in flight).
    LifecycleError,
    RunInFlightError,
)
