"""``dedup publish``: a JSONL file of listing events (created, updated or deleted, by ``op``)."""

from __future__ import annotations

import sys

from stream.commands.exit_codes import EXIT_FAILED, EXIT_OK
from stream.commands.options import PublishOptions
from stream.publish import publish_file
from stream.settings import Settings


def cmd_publish(options: PublishOptions, settings: Settings) -> int:
    report = publish_file(settings, options.file, all_or_nothing=options.all_or_nothing)
    for line_number, reason in report.invalid:
        print(f"{options.file}:{line_number}: {reason}", file=sys.stderr)
    skipped = f"{len(report.invalid)} invalid lines skipped"
    if options.all_or_nothing and report.invalid:
        skipped = f"{len(report.invalid)} invalid lines, so nothing was published (--all-or-nothing)"
    print(f"published {report.published} events to {settings.topics.listings}; {skipped}")
    return EXIT_FAILED if report.invalid else EXIT_OK
