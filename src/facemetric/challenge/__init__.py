"""Competition mode: host a face-verification contest with public and private leaderboards.

* :func:`create_challenge` builds the organiser folder and the participant bundle;
* :class:`Contest` opens it; every submission goes through :meth:`Contest.submit`
  (checks in :mod:`.submission`, scores in :mod:`.scoring`, storage in :mod:`.store`);
* :func:`create_app` / :func:`serve` run the web site (FastAPI + uvicorn), within
  :class:`ServerLimits` (timeouts, connections, request rate);
* :func:`backup_contest` copies a running contest consistently;
* :func:`run_demo` plays a whole contest on one descriptor set.
"""

from facemetric.challenge.app import create_app
from facemetric.challenge.backup import backup_contest
from facemetric.challenge.bundle import CreatedChallenge, create_challenge
from facemetric.challenge.config import ChallengeConfig, load_config
from facemetric.challenge.contest import Contest
from facemetric.challenge.demo import run_demo
from facemetric.challenge.leaderboard import LeaderboardRow, leaderboard, leaderboard_csv
from facemetric.challenge.limits import ServerLimits
from facemetric.challenge.public_data import public_protocol_warning
from facemetric.challenge.server import serve
from facemetric.challenge.store import ChallengeStore
from facemetric.challenge.submission import SubmissionError, format_submission, parse_submission

__all__ = [
    "ChallengeConfig",
    "ChallengeStore",
    "Contest",
    "CreatedChallenge",
    "LeaderboardRow",
    "ServerLimits",
    "SubmissionError",
    "backup_contest",
    "create_app",
    "create_challenge",
    "format_submission",
    "leaderboard",
    "leaderboard_csv",
    "load_config",
    "parse_submission",
    "public_protocol_warning",
    "run_demo",
    "serve",
]
