"""The exit statuses of every ``dedup`` command."""

EXIT_OK = 0
EXIT_FAILED = 1  # a failure the user can fix; one line on stderr says what
EXIT_USAGE = 2  # a bad flag (argparse's own status)
