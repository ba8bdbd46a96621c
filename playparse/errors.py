"""The exception tree of playparse.

    PlayparseError                  root of everything the domain raises on purpose
    ├── DocumentError               the uploaded file cannot become text (never worth a retry)
    │   └── (see playparse.extraction.errors for the typed subclasses)
    ├── ParseError                  a chunk or a whole play could not be parsed
    └── JobStateError               an action the job's current state does not allow

Every error carries a stable `type` name (used as the Temporal ApplicationError type and the
problem `type` suffix in the API) and a message written for the person who sent the file.
"""

from __future__ import annotations


class PlayparseError(Exception):
    """Root of playparse's own errors."""

    type: str = "PlayparseError"
    retryable: bool = False
    # Input and output tokens a provider was paid for on the way to this error.
    spent: tuple[int, int] = (0, 0)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DocumentError(PlayparseError):
    """The document cannot be turned into text; retrying will not help."""

    type = "DocumentError"


class ParseError(PlayparseError):
    """A chunk or the assembled play could not be parsed into a valid playbook."""

    type = "ParseError"


class JobStateError(PlayparseError):
    """The job's current state does not allow the requested action."""

    type = "JobStateError"

    def __init__(self, message: str, *, status: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.status = status
        self.allowed = allowed
