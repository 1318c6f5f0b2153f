"""`facemetric challenge`: host a contest (create, team add, serve, close, export, backup, demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

challenge_app = typer.Typer(
    name="challenge",
    help="Host a face-verification contest with public and private leaderboards.",
    no_args_is_help=True,
)
team_app = typer.Typer(name="team", help="Manage the teams of a contest.", no_args_is_help=True)
challenge_app.add_typer(team_app)


def _load_protocol(path: Path, fmt: Optional[str]):
    """The protocol and its format name (detected when not given)."""
    from facemetric.io import load_protocol
    from facemetric.io.protocols import detect_format

    fmt = fmt or detect_format(path)
    return load_protocol(path, format=fmt), fmt


def _warn(message: str) -> None:
    typer.secho(f"warning: {message}", err=True, fg="yellow")


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
    metric: str = typer.Option("auc", help="Contest metric: auc, accuracy or tar@far=VALUE (e.g. tar@far=1e-3)."),
    public_fraction: float = typer.Option(0.3, help="Share of the pairs on the public leaderboard."),
    seed: int = typer.Option(0, help="Seed of the anonymisation and the public/private split."),
    daily_limit: int = typer.Option(5, help="Submissions per team per UTC day."),
    max_final: int = typer.Option(2, help="How many final submissions a team may choose."),
    max_upload_bytes: int = typer.Option(1 << 20, help="Largest accepted submission file, in bytes."),
    flip: str = typer.Option(
        "sum", help="Baselines: 'sum' adds flipped descriptors when present, 'none' not."
    ),
    title: str = typer.Option("facemetric challenge", help="Title shown on the contest pages."),
    missing: str = typer.Option("reject", "--missing", help="Test pairs with an image that has no descriptor: "
                                "reject (kept as rejections for every team, not in the bundle), drop (left out "
                                "of the contest) or error."),
) -> None:
    """Create a contest: the organiser's answers, the participant bundle, and the L2 and cosine
    baselines.

    The admin token is printed once, on the last line. A warning goes to stderr when the test
    pairs come from a public benchmark (their labels can then be looked up).

    Examples:

    - `facemetric challenge create --train train.npz --test test.npz --pairs test_pairs.txt --out contest/`
    - `facemetric challenge create --train train.npz --test test.npz --pairs pairs.csv --metric tar@far=1e-3 --public-fraction 0.3 --out contest/`
    """
    from facemetric.challenge import create_challenge
    from facemetric.enrolment import check_missing_policy
    from facemetric.io import load_descriptors

    check_missing_policy(missing)
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
    protocol, fmt = _load_protocol(pairs, pairs_format)
    created = create_challenge(
        load_descriptors(train), load_descriptors(test), protocol, out_dir, config, protocol_format=fmt,
        missing=missing,
    )
    for message in created.warnings:
        _warn(message)
    if created.missing is not None and created.missing.n_images:
        _warn(created.missing.summary())
    typer.echo(f"contest created in {created.directory}: {created.n_pairs} pairs, {created.n_public} public")
    typer.echo(f"participant bundle: {created.bundle}")
    typer.echo("admin token (shown once; keep it secret):")
    typer.echo(created.admin_token)


@team_app.command("add")
def team_add(
    directory: Path = typer.Argument(..., help="The contest folder."),
    name: str = typer.Argument(..., help="Team name (1 to 64 printable characters)."),
) -> None:
    """Add a team; its token is printed once, on the last line.

    Examples:

    - `facemetric challenge team add contest/ "Deep Metric Lab"`
    """
    from facemetric.challenge import Contest

    team, token = Contest(directory).store.add_team(name)
    typer.echo(f"team {team.name!r} added; its token (shown once):")
    typer.echo(token)


@team_app.command("list")
def team_list(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """List the teams (names only; tokens are never stored).

    Examples:

    - `facemetric challenge team list contest/`
    """
    from facemetric.challenge import Contest

    for team in Contest(directory).store.teams():
        typer.echo(f"{team.name}{'  (baseline)' if team.is_baseline else ''}")


@challenge_app.command("serve")
def serve(
    directory: Path = typer.Argument(..., help="The contest folder."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; keep 127.0.0.1 behind a reverse proxy."),
    port: int = typer.Option(8000, help="TCP port."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log every request."),
    header_timeout: float = typer.Option(
        10.0, help="Seconds a client has to send its request headers, from connecting."
    ),
    body_timeout: float = typer.Option(60.0, help="Seconds a client has to send a request body, whole."),
    max_connections: int = typer.Option(
        500, help="Open connections beyond which new ones get a 503 at once."
    ),
    team_rate: float = typer.Option(2.0, help="Requests per second a team may make, on average."),
    team_burst: int = typer.Option(20, help="Requests a team may make at once, above that rate."),
    work_threads: int = typer.Option(2, help="Submissions parsed and scored at the same time."),
) -> None:
    """Serve the leaderboard, the submission form and the API with uvicorn.

    Refuses to start on a contest folder it cannot write, or whose locked settings changed.

    Examples:

    - `facemetric challenge serve contest/ --host 127.0.0.1 --port 8000`
    """
    from facemetric.challenge import ServerLimits
    from facemetric.challenge import serve as serve_contest

    limits = ServerLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_connections=max_connections,
        team_rate=team_rate,
        team_burst=team_burst,
        work_threads=work_threads,
    )
    serve_contest(directory, host, port, access_log=access_log, limits=limits)


@challenge_app.command("close")
def close(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """Close the contest: stop submissions, then print the private leaderboard it reveals.

    Examples:

    - `facemetric challenge close contest/`
    """
    from facemetric.challenge import Contest, leaderboard
    from facemetric.challenge.demo import format_table

    contest = Contest(directory)
    stamp = contest.store.close()
    typer.echo(f"contest closed at {stamp}; final (private) leaderboard:")
    typer.echo(format_table(leaderboard(contest.store, closed=True)))


@challenge_app.command("backup")
def backup(
    directory: Path = typer.Argument(..., help="The contest folder (the server may be running)."),
    out: Path = typer.Argument(
        ..., help="New folder for a complete copy of the contest, or a file name ending in .db."
    ),
) -> None:
    """Copy a contest consistently with SQLite's online backup API, also while it is served.

    A plain copy of challenge.db misses submissions still in its write-ahead log.

    Examples:

    - `facemetric challenge backup contest/ backups/contest-2026-05-01`
    - `facemetric challenge backup contest/ backups/challenge-2026-05-01.db`
    """
    from facemetric.challenge import backup_contest

    db, count = backup_contest(directory, out)
    typer.echo(f"backed up {count} submission(s) to {db}")


@challenge_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="The contest folder."),
    csv_path: Optional[Path] = typer.Option(
        None, "--out", help="CSV file to write; default: standard output."
    ),
) -> None:
    """Export the leaderboard as CSV (private scores once closed; formula-like cells are quoted).

    Examples:

    - `facemetric challenge export contest/ --out leaderboard.csv`
    """
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
    """Print the leaderboard: team, entries, public (and private once closed).

    Examples:

    - `facemetric challenge leaderboard contest/`
    """
    from facemetric.challenge import Contest, leaderboard
    from facemetric.challenge.demo import format_table

    contest = Contest(directory)
    closed = contest.is_closed()
    typer.echo(format_table(leaderboard(contest.store, closed=closed), private=closed))


@challenge_app.command("admin-token")
def admin_token(directory: Path = typer.Argument(..., help="The contest folder.")) -> None:
    """Replace the admin token (the old one stops working); the new one is printed on the last line.

    Examples:

    - `facemetric challenge admin-token contest/`
    """
    from facemetric.challenge import Contest

    token = Contest(directory).store.new_admin_token()
    typer.echo("new admin token (shown once):")
    typer.echo(token)


@challenge_app.command("demo")
def demo(
    descriptors: Path = typer.Option(..., "--descriptors", metavar="<file>", help="Descriptor set with "
                                     "identities, covering the images of PAIRS and people outside them "
                                     "(e.g. every LFW image: facemetric extract data/lfw/images ...)."),
    pairs: Path = typer.Option(..., "--pairs", metavar="<file>", help="Labelled pairs over the ids of those "
                               "descriptors (e.g. data/lfw/pairs.txt)."),
    out_dir: Optional[Path] = typer.Option(
        None, "--out", help="New folder for the contest; default: a temp one."
    ),
    public_fraction: float = typer.Option(0.3, help="Share of the pairs on the public leaderboard."),
    seed: int = typer.Option(0, help="Seed of the split."),
    metric: str = typer.Option("auc", help="Contest metric: auc, accuracy or tar@far=VALUE (e.g. tar@far=1e-3)."),
) -> None:
    """Play a whole contest: baselines and a learned metric, then print the final table.

    Training uses the people of DESCRIPTORS that no pair shows. On a public benchmark (as LFW) it
    warns that such a contest is for practice only.

    Examples:

    - `facemetric challenge demo --descriptors lfw_all.npz --pairs data/lfw/pairs.txt`
    - `facemetric challenge demo --descriptors lfw_all.npz --pairs data/lfw/pairs.txt --out demo-contest/`
    """
    import shutil
    import tempfile

    from facemetric.challenge import public_protocol_warning, run_demo
    from facemetric.challenge.demo import format_table
    from facemetric.io import load_descriptors

    config = _config(
        title="facemetric demo challenge", metric=metric, public_fraction=public_fraction, seed=seed
    )
    protocol, fmt = _load_protocol(pairs, None)
    warning = public_protocol_warning(protocol, fmt)
    if warning:
        _warn(warning)
    descriptor_set = load_descriptors(descriptors)
    scratch = None
    if out_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="facemetric-demo-"))
        out_dir = scratch / "contest"
    try:
        rows = run_demo(descriptor_set, protocol, out_dir, config)
    except BaseException:
        if scratch is not None:  # no empty temp folder left behind
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    typer.echo(f"contest folder: {out_dir}")
    typer.echo(format_table(rows))


def register(app: typer.Typer) -> None:
    """Add the `challenge` command group to ``app``."""
    app.add_typer(challenge_app)
