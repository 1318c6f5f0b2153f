"""`facemetric challenge`: host a contest (create, team add, serve, close, export, demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

DEFAULT_DESCRIPTORS = Path("../shared/data/lfw/descriptors_mobilefacenet_112x96.npz")
DEFAULT_PAIRS = Path("../shared/data/lfw/pairs.txt")

challenge_app = typer.Typer(
    name="challenge",
    help="Host a face-verification contest with public and private leaderboards.",
    no_args_is_help=True,
)
team_app = typer.Typer(name="team", help="Manage the teams of a contest.", no_args_is_help=True)
challenge_app.add_typer(team_app)


def _load_protocol(path: Path, fmt: Optional[str]):
    from facemetric.io import load_protocol

    return load_protocol(path, format=fmt)


def _config(**settings):
    from facemetric.challenge import ChallengeConfig

    return ChallengeConfig(**settings)


@challenge_app.command("create")
def create(
    train: Path = typer.Option(
        ..., "--train", help="Training descriptors with identities (.npz or .parquet)."
    ),
    test: Path = typer.Option(..., "--test", help="Descriptors of the test images (.npz or .parquet)."),
    pairs: Path = typer.Option(..., "--pairs", help="Labelled test pairs (any format load_protocol reads)."),
    out_dir: Path = typer.Option(
        ..., "--out", help="New folder for the contest (organiser files + bundle/)."
    ),
    pairs_format: Optional[str] = typer.Option(
        None, "--pairs-format", help="Protocol format; default: detect."
    ),
    metric: str = typer.Option("auc", help="Contest metric: auc, accuracy or tar@far=<value>."),
    public_fraction: float = typer.Option(0.3, help="Share of the pairs on the public leaderboard."),
    seed: int = typer.Option(0, help="Seed of the anonymisation and the public/private split."),
    daily_limit: int = typer.Option(5, help="Submissions per team per UTC day."),
    max_final: int = typer.Option(2, help="How many final submissions a team may choose."),
    max_upload_bytes: int = typer.Option(1 << 20, help="Largest accepted submission file, in bytes."),
    flip: str = typer.Option(
        "sum", help="Baselines: 'sum' adds flipped descriptors when present, 'none' not."
    ),
    title: str = typer.Option("facemetric challenge", help="Title shown on the contest pages."),
) -> None:
    """Create a contest: organiser answers, participant bundle, and the L2/cosine baselines.

    The admin token is printed once, on the last line.
    """
    from facemetric.challenge import create_challenge
    from facemetric.io import load_descriptors

    config = _config(
        title=title,
        metric=metric,
        public_fraction=public_fraction,
        seed=seed,
        daily_limit=daily_limit,
        max_final=max_final,
        max_upload_bytes=max_upload_bytes,
        flip=flip,
    )
    created = create_challenge(
        load_descriptors(train), load_descriptors(test), _load_protocol(pairs, pairs_format), out_dir, config
    )
    typer.echo(f"contest created in {created.directory}: {created.n_pairs} pairs, {created.n_public} public")
    typer.echo(f"participant bundle: {created.bundle}")
    typer.echo("admin token (shown once; keep it secret):")
    typer.echo(created.admin_token)


@team_app.command("add")
def team_add(
    directory: Path = typer.Argument(..., help="The contest folder."),
    name: str = typer.Argument(..., help="Team name (1 to 64 printable characters)."),
) -> None:
    """Add a team; its token is printed once, on the last line."""
    from facemetric.challenge import Contest

    team, token = Contest(directory).store.add_team(name)
    typer.echo(f"team {team.name!r} added; its token (shown once):")
    typer.echo(token)


@team_app.command("list")
def team_list(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """List the teams (names only; tokens are never stored)."""
    from facemetric.challenge import Contest

    for team in Contest(directory).store.teams():
        typer.echo(f"{team.name}{'  (baseline)' if team.is_baseline else ''}")


@challenge_app.command("serve")
def serve(
    directory: Path = typer.Argument(..., help="The contest folder."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; keep 127.0.0.1 behind a reverse proxy."),
    port: int = typer.Option(8000, help="TCP port."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log every request."),
) -> None:
    """Serve the leaderboard, the submission form and the API with uvicorn."""
    from facemetric.challenge import serve as serve_contest

    serve_contest(directory, host, port, access_log=access_log)


@challenge_app.command("close")
def close(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """Close the contest: stop submissions and reveal the private leaderboard."""
    from facemetric.challenge import Contest

    stamp = Contest(directory).store.close()
    typer.echo(f"contest closed at {stamp}")


@challenge_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="The contest folder."),
    csv_path: Optional[Path] = typer.Option(
        None, "--out", help="CSV file to write; default: standard output."
    ),
) -> None:
    """Export the leaderboard as CSV (private scores once closed; formula-like cells are quoted)."""
    from facemetric.challenge import Contest, leaderboard, leaderboard_csv
    from facemetric.io.atomic import write_text_atomic

    contest = Contest(directory)
    closed = contest.is_closed()
    text = leaderboard_csv(leaderboard(contest.store, closed=closed), closed=closed)
    if csv_path is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(csv_path, text)
        typer.echo(f"wrote {csv_path}")


@challenge_app.command("leaderboard")
def show_leaderboard(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """Print the leaderboard: team, entries, public (and private once closed)."""
    from facemetric.challenge import Contest, leaderboard
    from facemetric.challenge.demo import format_table

    contest = Contest(directory)
    closed = contest.is_closed()
    typer.echo(format_table(leaderboard(contest.store, closed=closed), private=closed))


@challenge_app.command("admin-token")
def admin_token(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """Replace the admin token (the old one stops working); the new one is printed on the last line."""
    from facemetric.challenge import Contest

    token = Contest(directory).store.new_admin_token()
    typer.echo("new admin token (shown once):")
    typer.echo(token)


@challenge_app.command("demo")
def demo(
    descriptors: Path = typer.Option(DEFAULT_DESCRIPTORS, help="Descriptor set with identities."),
    pairs: Path = typer.Option(DEFAULT_PAIRS, help="Labelled pairs over those descriptors' ids."),
    out_dir: Optional[Path] = typer.Option(
        None, "--out", help="New folder for the contest; default: a temp one."
    ),
    public_fraction: float = typer.Option(0.3, help="Share of the pairs on the public leaderboard."),
    seed: int = typer.Option(0, help="Seed of the split."),
    metric: str = typer.Option("auc", help="Contest metric: auc, accuracy or tar@far=<value>."),
) -> None:
    """Play a whole contest: baselines and a learned metric, then print the final table."""
    import tempfile

    from facemetric.challenge import run_demo
    from facemetric.challenge.demo import format_table
    from facemetric.io import load_descriptors

    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="facemetric-demo-")) / "contest"
    config = _config(
        title="facemetric demo challenge", metric=metric, public_fraction=public_fraction, seed=seed
    )
    rows = run_demo(load_descriptors(descriptors), _load_protocol(pairs, None), out_dir, config)
    typer.echo(f"contest folder: {out_dir}")
    typer.echo(format_table(rows))


def register(app: typer.Typer) -> None:
    """Add the `challenge` command group to ``app``."""
    app.add_typer(challenge_app)
