"""The one exception type for bad input; the CLI prints it as a single line (exit code 2)."""


class UserError(Exception):
    """Bad input or a refused operation, with a message naming the file, line or field."""
