"""Competition mode: host a face-verification contest with public and private leaderboards.

* :func:`create_challenge` builds the organiser folder and the participant bundle;
* :class:`Contest` opens it; every submission goes through :meth:`Contest.submit`
  (checks in :mod:`.submission`, scores in :mod:`.scoring`, storage in :mod:`.store`);
* :func:`create_app` / :func:`serve` run the web site (FastAPI + uvicorn);
* :func:`run_demo` plays a whole contest on one descriptor set.
"""

from facemetric.challenge.app import create_app, serve
from facemetric.challenge.bundle import CreatedChallenge, create_challenge
from facemetric.challenge.config import ChallengeConfig, load_config
from facemetric.challenge.contest import Contest
from facemetric.challenge.demo import run_demo
from facemetric.challenge.leaderboard import LeaderboardRow, leaderboard, leaderboard_csv
from facemetric.challenge.store import ChallengeStore
from facemetric.challenge.submission import SubmissionError, format_submission, parse_submission

__all__ = [
    "ChallengeConfig",
    "ChallengeStore",
    "Contest",
    "CreatedChallenge",
    "LeaderboardRow",
    "SubmissionError",
    "create_app",
    "create_challenge",
    "format_submission",
    "leaderboard",
    "leaderboard_csv",
    "load_config",
    "parse_submission",
    "run_demo",
    "serve",
]
