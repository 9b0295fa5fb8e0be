"""``dedup publish``: a JSONL file of listings as listing-created events."""

from __future__ import annotations

import sys

from stream.commands.exit_codes import EXIT_FAILED, EXIT_OK
from stream.commands.options import PublishOptions
from stream.publish import publish_file
from stream.settings import Settings


def cmd_publish(options: PublishOptions, settings: Settings) -> int:
    report = publish_file(settings, options.file)
    for line_number, reason in report.invalid:
        print(f"{options.file}:{line_number}: {reason}", file=sys.stderr)
    print(f"published {report.published} events to {settings.topics.listings}; {len(report.invalid)} invalid lines skipped")
    return EXIT_FAILED if report.invalid else EXIT_OK
