"""Errors of the decider and the model folder, importable without torch or scikit-learn."""


class DeciderError(RuntimeError):
    """A decider file is missing, corrupt or of an unknown kind."""


class ModelError(RuntimeError):
    """The model folder is missing, incomplete or inconsistent; the message says how to fix it."""
