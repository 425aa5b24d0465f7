"""A throwaway load balancer for the cluster tests: Debian's nginx on a free loopback port,
its configuration, logs and temporary files in a directory of the test (never the system's
service). Node A is the primary, node B the backup: everything goes to A while it accepts
connections, to B once A refuses them (docs/DEPLOYMENT.md, "A cluster")."""
from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.redis_server import free_port

CONFIG = """\
user {user};
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream bwlive {{
        server {primary} max_fails=1 fail_timeout=30s;
        server {backup} backup;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location / {{
            proxy_pass http://bwlive;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Balancer:
    """nginx at ``url`` in front of ``primary`` and ``backup`` (``host:port``) until ``stop()``."""

    def __init__(self, directory: Path, primary: str, backup: str) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise AssertionError("nginx is not installed: the fail-over test needs Debian's nginx (.ci/run installs it)")
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.config, self.access_log = directory / "nginx.conf", directory / "access.log"
        self.config.write_text(CONFIG.format(user=getpass.getuser(), dir=directory, primary=primary, backup=backup,
                                             port=port))
        self.proc = subprocess.Popen([binary, "-p", str(directory), "-e", str(directory / "error.log"),
                                      "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while not self._answers(port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"nginx did not start: {(directory / 'error.log').read_text()}")
            time.sleep(0.05)

    @staticmethod
    def _answers(port: int) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    def upstreams(self, method: str, path: str) -> list[str]:
        """The node that answered each ``method path`` so far (its last upstream: nginx names
        every node it tried), in order."""
        answered = []
        for line in self.access_log.read_text().splitlines():
            logged_method, uri, _status, *upstream = line.split(" ", 3)
            if (logged_method, uri) == (method, path) and upstream:
                answered.append(upstream[0].rsplit(", ", 1)[-1])
        return answered

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
