"""Run a contest server in a child process (for tests, benchmarks and scripted hosting)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable

from facemetric.errors import ConfigError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A ``facemetric challenge serve`` child process.

    ``serve_args`` are added to the command line (``["--team-rate", "100"]``); ``preexec_fn`` runs
    in the child before it starts (tests use it to set resource limits); ``env`` is added to the
    environment (the benchmark points ``PYTHONPATH`` at another release with it).
    """

    directory: Path
    port: int
    host: str = "127.0.0.1"
    serve_args: list[str] = field(default_factory=list)
    preexec_fn: Callable[[], None] | None = None
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment
    proc: subprocess.Popen | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the server and wait until it answers ``/api/leaderboard``."""
        cmd = [
            sys.executable,
            "-m",
            "facemetric.cli.main",
            "challenge",
            "serve",
            str(self.directory),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--no-access-log",
            *self.serve_args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        # The log goes to a temporary file, never to a pipe that nobody reads and that could fill up.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=self.log, env=env, preexec_fn=self.preexec_fn
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.log_text()
                raise ConfigError(
                    f"the contest server exited with code {self.proc.returncode}: {err.strip()[-500:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/api/leaderboard", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ConfigError(f"the contest server did not answer on {self.url} within {timeout:.0f} s")

    def log_text(self) -> str:
        """What the server wrote to stderr so far."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the crash the fault test simulates."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Terminate politely, then kill."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.log is not None:
            self.log.close()
