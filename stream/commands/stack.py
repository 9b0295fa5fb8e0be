"""``dedup stack``: start, stop or show the local embedded stack."""

from __future__ import annotations

from infra.stack.local import MILVUS, ComponentStatus, LocalStack
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import StackOptions


def cmd_stack(options: StackOptions) -> int:
    stack = LocalStack(options.state_dir, kafka_port=options.kafka_port, redis_port=options.redis_port)
    if options.action == "down":
        stopped = stack.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing (no component started by `dedup stack up`)'}")
        return EXIT_OK
    status = stack.up() if options.action == "up" else stack.status()
    for component in status.components:
        print(f"{component.name:8} {component_state(component):10} {component.endpoint}")
    if all(component.running for component in status.components):
        print(f"export DEDUP_KAFKA_BOOTSTRAP_SERVERS={status.kafka_bootstrap}")
        print(f"export DEDUP_REDIS_URL={status.redis_url}")
        print(f"export DEDUP_MILVUS_URI={status.milvus_uri}")
    return EXIT_OK


def component_state(component: ComponentStatus) -> str:
    if component.name == MILVUS:
        # Milvus Lite has no process of its own: each worker opens the file in-process.
        return "embedded"
    return f"running (pid {component.pid})" if component.running else "stopped"
