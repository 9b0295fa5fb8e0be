"""``dedup replay``: plan the range, show progress, reprocess it through the same pipeline."""

from __future__ import annotations

import threading
import uuid

from tqdm import tqdm

from stream.broker import connect
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import ReplayOptions
from stream.commands.shutdown import stop_on_signals
from stream.kafka import topic_partitions
from stream.replay import (
    Replayer,
    ReplayError,
    ReplayResult,
    check_group_is_free,
    parse_offsets,
    parse_timestamp_ms,
    plan_ranges,
)
from stream.settings import Settings


def cmd_replay(options: ReplayOptions, settings: Settings) -> int:
    with stop_on_signals(settings.worker.shutdown_grace_s) as stop:
        result = run_replay(options, settings, stop)
    print(
        f"replayed {sum(r.size for r in result.ranges)} messages over {len(result.ranges)} partitions: "
        f"{result.processed} listings, {result.duplicates} duplicate-found events, {result.dead_lettered} dead letters"
    )
    return EXIT_OK


def run_replay(options: ReplayOptions, settings: Settings, stop: threading.Event) -> ReplayResult:
    live_group = settings.kafka.group_id
    if options.group == live_group:
        raise ReplayError(f"--group must differ from the live group {live_group!r}: replay never moves its offsets")
    from_ts = parse_timestamp_ms(options.from_timestamp) if options.from_timestamp else None
    to_ts = parse_timestamp_ms(options.to_timestamp) if options.to_timestamp else None
    from_offsets = parse_offsets(options.from_offsets) if options.from_offsets else None
    if from_ts is not None and to_ts is not None and to_ts <= from_ts:
        raise ReplayError("--to-timestamp must be after --from-timestamp")
    connect(settings.kafka.client_config())  # an unusable broker is one line now, not after the model's imports
    from stream.worker.runtime import open_runtime  # torch, transformers, pymilvus: seconds

    with open_runtime(settings) as runtime:
        group = options.group or f"{live_group}-replay-{uuid.uuid4().hex[:8]}"
        consumer = runtime.consumer(group)
        client, topic = settings.kafka.client_config(), settings.topics.listings
        try:
            if options.group is not None:  # a worker's group (any name) must never have its offsets moved
                check_group_is_free(client, options.group, topic, topic_partitions(consumer, topic))
            ranges = plan_ranges(
                consumer, client, topic, from_timestamp_ms=from_ts, from_offsets=from_offsets, to_timestamp_ms=to_ts
            )
        except BaseException:
            consumer.close()  # the Replayer closes it otherwise
            raise
        with tqdm(total=sum(r.size for r in ranges), unit="event", desc="replay") as progress:
            replayer = Replayer(
                consumer,
                runtime.processor(),
                topic=settings.topics.listings,
                batcher=runtime.batcher(fill=True),
                commit=options.group is not None,
                stop=stop,
                on_progress=progress.update,
            )
            return replayer.run(ranges)
