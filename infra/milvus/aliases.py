"""The configured collection name as a Milvus alias on one physical collection per model.

Workers are configured with a name (``DEDUP_MILVUS_COLLECTION``, e.g. ``listings``). A collection
created from this release on is ``<name>__<digest of the model's embedding version>`` with the
alias ``<name>`` pointing at it, so that ``dedup reindex`` can fill a collection for a new model
beside the serving one and then move the alias in one atomic call (``alter_alias``). A name that is
an existing plain collection keeps being used as it is.

A store resolves the alias once, when it opens, and keeps using that physical collection: a worker
with the old model keeps writing old vectors to the old collection, never to the new one.
"""

from __future__ import annotations

import hashlib
import logging

from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

log = logging.getLogger(__name__)

SEPARATOR = "__"
VERSION_DIGITS = 10  # 40 bits of the version's sha256: collisions between a name's models are not a concern
MAX_NAME_LENGTH = 255  # Milvus' limit on collection and alias names


def physical_name(name: str, model_version: str) -> str:
    """The collection that holds ``name``'s vectors of ``model_version`` (letters, digits, underscores)."""
    digest = hashlib.sha256(model_version.encode()).hexdigest()[:VERSION_DIGITS]
    return f"{name[: MAX_NAME_LENGTH - len(SEPARATOR) - VERSION_DIGITS]}{SEPARATOR}{digest}"


def resolve(client: MilvusClient, name: str, timeout: float) -> str | None:
    """The collection ``name`` denotes: the one an alias points at, ``name`` itself for a plain
    collection, None when there is neither."""
    if not client.has_collection(name, timeout=timeout):
        return None
    # describe_collection answers for an alias with its collection's name (no error path to log).
    return str(client.describe_collection(name, timeout=timeout).get("collection_name") or name)


def claim(client: MilvusClient, alias: str, collection: str, timeout: float) -> str:
    """Points the new ``alias`` at ``collection``; the collection it points at in the end (another
    worker may have created it first, with this model or another)."""
    try:
        client.create_alias(collection, alias, timeout=timeout)
    except MilvusException:
        found = resolve(client, alias, timeout)
        if found is None:
            raise
        return found
    log.info("Milvus alias %r -> collection %r", alias, collection)
    return collection


def switch(client: MilvusClient, alias: str, collection: str, timeout: float, *, plain_renamed_to: str) -> str | None:
    """Points ``alias`` at ``collection``; the collection it pointed at before (None if none).

    An alias already there moves in one call, so every search sees one collection or the other. A
    plain collection named ``alias`` (created before aliases) is renamed to ``plain_renamed_to``
    first: for a moment between the two calls the name resolves to nothing.
    """
    previous = resolve(client, alias, timeout)
    if previous is None:
        client.create_alias(collection, alias, timeout=timeout)
    elif previous == alias:
        client.rename_collection(alias, plain_renamed_to, timeout=timeout)
        client.create_alias(collection, alias, timeout=timeout)
        client.load_collection(plain_renamed_to, timeout=timeout)  # Milvus Lite releases what it renames
        previous = plain_renamed_to
    else:
        client.alter_alias(collection, alias, timeout=timeout)
    log.info("Milvus alias %r -> collection %r (was %r)", alias, collection, previous)
    return previous


def drop_aliases(client: MilvusClient, collection: str, timeout: float) -> list[str]:
    """Drops the aliases pointing at ``collection`` (a server refuses to drop a collection that has any)."""
    aliases = [str(alias) for alias in client.list_aliases(collection, timeout=timeout).get("aliases") or []]
    for alias in aliases:
        client.drop_alias(alias, timeout=timeout)
    return aliases
