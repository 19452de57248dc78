"""nginx for the corpus: one server block for every site on 80 and 443 (both families), pages
rendered per `$host` by SSI from the templates of `webcontent`."""

from __future__ import annotations

import resource
from pathlib import Path

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}


def config(workdir: Path, www: Path, cert: Path, key: Path) -> str:
    """The whole nginx.conf, every path inside `workdir` (nothing of the system's nginx used)."""
    headers = "\n".join(
        f'        add_header {n} "{v}" always;' for n, v in SECURITY_HEADERS.items()
    )
    temp = "\n".join(
        f"    {kind}_temp_path {workdir}/nginx-{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
daemon off;
master_process on;
user root;
worker_processes 2;
worker_rlimit_nofile {resource.getrlimit(resource.RLIMIT_NOFILE)[1]};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{
    worker_connections 16384;
    multi_accept on;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 10;
    server_tokens off;
{temp}
    types {{
        text/html html;
        text/css css;
        application/javascript js;
        image/png png;
        image/svg+xml svg;
        image/x-icon ico;
    }}
    default_type application/octet-stream;
    open_file_cache max=100 inactive=600s;
    open_file_cache_valid 600s;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:20m;
    server {{
        listen 80 default_server backlog=65535 reuseport;
        listen [::]:80 default_server ipv6only=on backlog=65535 reuseport;
        listen 443 ssl default_server backlog=65535 reuseport;
        listen [::]:443 ssl default_server ipv6only=on backlog=65535 reuseport;
        server_name _;
        root {www};
        ssi on;
{headers}
        location = / {{
            try_files /home.html =404;
        }}
        location ~ "^/p/[0-9]+$" {{
            try_files /l2.html =404;
        }}
        location ~ "^/p/[0-9]+/[0-9]+$" {{
            try_files /l3.html =404;
        }}
        location ~ "\\.html$" {{
            internal;
        }}
    }}
}}
"""


def command(conf: Path, workdir: Path) -> list[str]:
    """The foreground nginx command line."""
    return ["nginx", "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "nginx-error.log")]
