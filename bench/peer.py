"""The peer pipeline of fast C tools on the same corpus: `adnshost` looks up every AAAA through
the lab resolver (cold cache), then `curl --parallel` fetches every homepage over IPv6 and then
over IPv4, the addresses pinned with `resolve` from the corpus map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import Site, sites
from bench.measure import Measured, combined, run_measured
from bench.topology import CLIENT

CURL_PARALLEL = 200
CHUNK = 1000
"""Sites per adnshost or curl process, run one after another. In one process, 10,000 sites
take curl 3x longer (its parallel mode slows with the number of operations) and adnshost
loses replies to its socket's full receive buffer and waits 2 s to retry."""


@dataclass(frozen=True)
class PassResult:
    """One pass of the pipeline: how it ran and how many of its sites succeeded."""

    name: str
    measured: Measured
    ok: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {"pass": self.name, "ok": self.ok, "total": self.total, **self.measured.to_dict()}


def _in_client(*command: str) -> list[str]:
    return ["ip", "netns", "exec", CLIENT, *command]


def _adns_answered(out: Path) -> int:
    """Queries that got at least one record, from adnshost's asynch output format."""
    ok = 0
    with out.open() as lines:
        for line in lines:
            fields = line.split()
            if len(fields) >= 3 and fields[0].isdigit() and fields[2] == "ok" and fields[1] != "0":
                ok += 1
    return ok


def adns_pass(workdir: Path, count: int, resolver: str) -> PassResult:
    """AAAA of every site name, asynchronously, through `resolver`, in runs of `CHUNK` names
    (adnshost sends them all at once on one socket, whose receive buffer then overflows)."""
    command = _in_client("adnshost", "--config", f"nameserver {resolver}", "-a", "-t", "aaaa", "-f")
    site_list = list(sites(count))
    runs, ok = [], 0
    for start in range(0, count, CHUNK):
        names = workdir / f"peer-names-{start}.txt"
        names.write_text("".join(f"{s.host}\n" for s in site_list[start : start + CHUNK]))
        out = workdir / f"peer-adns-{start}.out"
        runs.append(run_measured(command, stdin=names, stdout=out))
        ok += _adns_answered(out)
    return PassResult("adns_aaaa", combined(runs), ok, count)


def _curl_config(site_list: list[Site], family: int) -> str:
    """One curl operation per site, separated by `next`, each pinning its own address.

    A `resolve` given once for all URLs would be copied into every transfer, which makes curl
    quadratic in the number of sites (12 s of CPU for 3,000 homepages instead of 0.4 s).
    """
    blocks = []
    for site in site_list:
        address = f"[{site.v6}]" if family == 6 else site.v4
        blocks.append(
            f'url = "http://{site.host}/"\n'
            'output = "/dev/null"\n'
            f'resolve = "{site.host}:80:{address}"\n'
            f"ipv{family}\n"
            'write-out = "%{http_code}\\n"\n'
        )
    return "next\n".join(blocks)


def curl_pass(workdir: Path, count: int, family: int) -> PassResult:
    """GET every homepage over one family, `CURL_PARALLEL` transfers at a time, in runs of
    `CHUNK` sites."""
    site_list = list(sites(count))
    runs, ok = [], 0
    for start in range(0, count, CHUNK):
        config = workdir / f"peer-curl{family}-{start}.conf"
        config.write_text(_curl_config(site_list[start : start + CHUNK], family))
        out = workdir / f"peer-curl{family}-{start}.out"
        command = _in_client(
            "curl", "--no-progress-meter", "--parallel", "--parallel-max", str(CURL_PARALLEL),
            "--config", str(config),
        )  # fmt: skip
        runs.append(run_measured(command, stdout=out))
        ok += sum(1 for line in out.read_text().splitlines() if line.strip() == "200")
    return PassResult(f"curl_ipv{family}", combined(runs), ok, count)
