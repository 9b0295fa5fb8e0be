"""Errors of the encoders, importable without torch (the CLI maps them to one-line messages)."""


class EncoderError(RuntimeError):
    """The encoder cannot be built or run; the message is one line saying what to fix."""


class ReducerError(RuntimeError):
    """A reducer cannot be fitted, loaded or applied; the message says why."""
