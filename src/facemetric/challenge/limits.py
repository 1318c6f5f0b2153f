"""What one contest server process allows its clients: time, connections, request rate, work."""

from __future__ import annotations

from dataclasses import dataclass

from facemetric.errors import ConfigError


@dataclass(frozen=True)
class ServerLimits:
    """What one server process allows its clients (see ``facemetric challenge serve --help``)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 500
    team_rate: float = 2.0  # requests per second and team, on average
    team_burst: int = 20  # requests a team may send at once
    work_threads: int = 2  # submissions parsed and scored at the same time

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "team_rate"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name.replace('_', ' ')} must be positive; got {getattr(self, name)}")
        for name in ("max_connections", "team_burst", "work_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1; got {getattr(self, name)}")
