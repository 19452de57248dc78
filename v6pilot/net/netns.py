"""Linux network namespace helpers: run `ip` commands and run Python code inside a namespace."""

from __future__ import annotations

import asyncio
import ctypes
import os
import queue
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from v6pilot.errors import NamespaceError
from v6pilot.net import loop

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")
"""Per-namespace files that `ip netns exec` mounts over /etc (the lab puts resolv.conf there)."""


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run one `ip` command (inside `netns` if given) and return its output."""
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise NamespaceError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return proc.stdout


def ip_batch(lines: Sequence[str], netns: str | None = None) -> None:
    """Run many `ip` commands in one process (`ip -batch`), which is much faster than one each."""
    cmd = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        raise NamespaceError(
            f"ip -batch in {netns or 'root namespace'} failed: {proc.stderr.strip()}"
        )


def sysctls(netns: str, settings: dict[str, str]) -> None:
    """Set per-namespace sysctls by writing /proc/sys from inside the namespace, in one process."""
    script = "; ".join(
        f"echo {value} > /proc/sys/{key.replace('.', '/')}" for key, value in settings.items()
    )
    proc = subprocess.run(
        ["ip", "netns", "exec", netns, "sh", "-c", script], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise NamespaceError(f"sysctl in {netns} failed: {proc.stderr.strip()}")


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def list_namespaces(prefix: str) -> list[str]:
    """Names of the existing namespaces that start with `prefix`."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def pids_in(name: str) -> list[int]:
    """PIDs of the processes running inside namespace `name`."""
    out = ip("netns", "pids", name, check=False)
    return [int(p) for p in out.split()]


def enter(name: str) -> None:
    """Move the calling thread into namespace `name`: sockets it opens from now on live there."""
    with open(NETNS_DIR / name) as ns:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(ns.fileno(), CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NamespaceError(f"setns failed: {os.strerror(err)}")


def run_in_netns(name: str, fn: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine function `fn` on a fresh event loop in a thread inside namespace `name`.

    Only the thread moves, so sockets `fn` opens live in the namespace while the caller stays
    where it is; name resolution through getaddrinfo would run elsewhere, so use addresses.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            enter(name)
            result.append(loop.run(fn()))  # type: ignore[arg-type]
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=body, name=f"netns-{name}")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def iterate_in_netns(name: str | None, produce: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Items of the async iterator `produce()`, run on a loop in a thread inside namespace
    `name` (or the caller's own namespace when None), handed to the caller as they come.

    The caller consumes in its own thread and namespace, so what it does with each item (write
    a file, talk to a database on 127.0.0.1) is unaffected by where the items were measured.
    """
    items: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1024)
    stop = threading.Event()

    async def pump() -> None:
        async for item in produce():
            while not stop.is_set():
                try:
                    items.put_nowait(("item", item))
                    break
                except queue.Full:
                    await asyncio.sleep(0.01)
            if stop.is_set():
                return

    def body() -> None:
        try:
            if name is not None:
                enter(name)
            loop.run(pump())
            finish(("done", None))
        except BaseException as exc:
            finish(("error", exc))

    def finish(message: tuple[str, object]) -> None:
        while not stop.is_set():
            try:
                items.put(message, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=body, name=f"netns-{name or 'here'}", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = items.get()
            if kind == "done":
                return
            if kind == "error":
                raise payload  # type: ignore[misc]
            yield payload  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
