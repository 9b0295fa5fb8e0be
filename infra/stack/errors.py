"""The local stack's error, shared by its process, service and state-file modules."""


class StackError(RuntimeError):
    """The stack cannot start, stop or be inspected; the first line says what to do."""
