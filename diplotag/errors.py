"""The small error hierarchy. The CLI maps it to exit codes, the service to HTTP codes."""

from __future__ import annotations


class DiplotagError(Exception):
    """Base class of every error a user can cause or see."""

    code = "diplotag_error"
    exit_code = 1
    http_status = 400


class BadInputError(DiplotagError):
    """The request or the command-line input is not acceptable."""

    code = "bad_input"
    exit_code = 2
    http_status = 422


class DataFileError(DiplotagError):
    """A labelled data file is malformed; the message names file:line for every problem."""

    code = "bad_data"
    exit_code = 2
    http_status = 422

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more problem(s)" if more else "")
        super().__init__(text)


class ModelUnavailableError(DiplotagError):
    """No model is loaded, or a model directory is missing, incomplete or invalid."""

    code = "model_unavailable"
    exit_code = 3
    http_status = 503


class ModelFailureError(DiplotagError):
    """The model raised while scoring (out of memory, a broken device...); the service keeps running."""

    code = "model_failure"
    exit_code = 3
    http_status = 503


class BaseEncoderError(DiplotagError):
    """The base encoder could not be built or failed its verification."""

    code = "base_encoder_error"
    exit_code = 4
    http_status = 503


class ConflictError(DiplotagError):
    """The operation conflicts with the current state (e.g. a model version that exists)."""

    code = "conflict"
    exit_code = 5
    http_status = 409
