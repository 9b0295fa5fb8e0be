"""The exit statuses of every ``dedup`` command."""

EXIT_OK = 0
# A failure the user can fix; one line on stderr says what.
EXIT_FAILED = 1
EXIT_USAGE = 2  # a bad flag (argparse's own status)
# The Kafka broker could not be used; one line says why, so a supervisor can tell "retry later" from a bug:
# not reached within 10 s ("cannot reach the Kafka broker at HOST:PORT (connection refused) ...; check
# DEDUP_KAFKA_BOOTSTRAP_SERVERS"), refusing our credentials ("authentication with the Kafka broker ...
# failed ...; check DEDUP_KAFKA_SECURITY_PROTOCOL, ..._SASL_*"), or, for `run --until-idle`, no partition
# assignment from the group for 120 s.
EXIT_BROKER_UNAVAILABLE = 3
