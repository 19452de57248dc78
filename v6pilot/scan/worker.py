"""Starting a Celery worker that scans distributed chunks: `python -m v6pilot.scan.worker`
(or `v6pilot worker`), one process per core by default, each scanning one chunk at a time."""

from __future__ import annotations

import argparse
import os
import sys

from v6pilot.scan.distributed import make_app

DEFAULT_HOSTNAME = "v6pilot@%h"


def worker_argv(*, queue: str, concurrency: int | None, hostname: str, loglevel: str) -> list[str]:
    """The `celery worker` arguments: prefork processes (default one per core) consuming
    `queue`; gossip and mingle are off, as workers never talk to each other."""
    return [
        "worker",
        f"--queues={queue}",
        f"--concurrency={concurrency or os.cpu_count() or 1}",
        f"--hostname={hostname}",
        f"--loglevel={loglevel}",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
    ]


def run_worker(
    *,
    broker: str | None = None,
    queue: str | None = None,
    concurrency: int | None = None,
    hostname: str = DEFAULT_HOSTNAME,
    loglevel: str = "INFO",
) -> None:
    """Run a worker until it is stopped (SIGTERM finishes the running chunks first)."""
    app = make_app(broker, queue=queue)
    argv = worker_argv(
        queue=app.conf.task_default_queue,
        concurrency=concurrency,
        hostname=hostname,
        loglevel=loglevel,
    )
    app.worker_main(argv)


def worker_main(argv: list[str]) -> None:
    """Parse `argv` (the options of `run_worker`) and run the worker."""
    parser = argparse.ArgumentParser(prog="python -m v6pilot.scan.worker", description=__doc__)
    parser.add_argument("--broker", help="Broker URL (default: $V6PILOT_BROKER or local Redis).")
    parser.add_argument("--queue", help="Queue to consume (default: $V6PILOT_QUEUE or v6pilot).")
    parser.add_argument("--concurrency", type=int, help="Processes (default: one per core).")
    parser.add_argument("--hostname", default=DEFAULT_HOSTNAME, help="Node name (%%h: host).")
    parser.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, WARNING or ERROR.")
    args = parser.parse_args(argv)
    run_worker(
        broker=args.broker,
        queue=args.queue,
        concurrency=args.concurrency,
        hostname=args.hostname,
        loglevel=args.loglevel,
    )


if __name__ == "__main__":
    worker_main(sys.argv[1:])
