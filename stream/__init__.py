"""Kafka side of listing-dedup: event schemas, consumer loop, producers, replay, the worker and the CLI."""
