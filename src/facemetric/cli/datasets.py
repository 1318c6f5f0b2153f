"""`facemetric datasets fetch lfw`: download LFW (checked, resumable) or import a copy on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.options import NO_PROGRESS_HELP
from facemetric.progress import progress_bar, progress_enabled
from facemetric.errors import ConfigError

DATASETS = ("lfw",)

datasets_app = typer.Typer(help="Download or import public face datasets.", no_args_is_help=True)


@datasets_app.command("fetch")
def fetch(
    name: str = typer.Argument(..., help="Dataset to fetch; one of: lfw."),
    dest: Optional[Path] = typer.Option(
        None, "--dest", metavar="<dir>", help="Folder to install into (default: data/NAME under the current "
        "folder)."
    ),
    from_dir: Optional[Path] = typer.Option(
        None, "--from", metavar="<dir>", help="Import a copy already on disk (a folder holding pairs.txt "
        "and the images or the downloaded archive) instead of downloading."
    ),
    variant: str = typer.Option(
        "funneled", "--variant", metavar="<name>", help="Images to download: funneled (the default of "
        "scikit-learn) or original."
    ),
    mirror: Optional[str] = typer.Option(
        None, "--mirror", metavar="<url>", help="Base URL serving the same file names (default: figshare, "
        "or $FACEMETRIC_LFW_MIRROR)."
    ),
    keep_archive: bool = typer.Option(False, "--keep-archive", help="Keep the downloaded .tgz."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Download LFW from the mirrors of scikit-learn (checksums verified, partial downloads resumed,
    unpacked atomically), or import a copy with --from. Writes DEST/images/NAME/*.jpg and DEST/pairs.txt.

    Examples:

    - `facemetric datasets fetch lfw`
    - `facemetric datasets fetch lfw --from ~/Downloads/lfw --dest data/lfw`
    - `facemetric datasets fetch lfw --mirror https://example.org/lfw/`
    """
    from facemetric.datasets.lfw import fetch_lfw, import_lfw, lfw_summary

    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    dest = dest if dest is not None else Path("data") / name
    if from_dir is not None:
        install = import_lfw(from_dir, dest)
    else:
        with progress_bar(progress_enabled(False if no_progress else None)) as bar:
            def track(filename: str):
                task = bar.add_task(f"download {filename}", total=None)

                def update(done: int, total: int | None) -> None:
                    bar.update(task, completed=done, total=total)

                return update

            install = fetch_lfw(dest, variant=variant, mirror=mirror, progress=track,
                                keep_archive=keep_archive)
    typer.echo(lfw_summary(install))
    typer.echo(f"next: facemetric extract {install.images} --protocol {install.root / 'pairs.txt'} "
              "--detector dlib --embedder dlib --flip --out lfw_dlib.npz   (see docs/extraction.md)")


def register(app: typer.Typer) -> None:
    """Add the `datasets` command group to ``app``."""
    app.add_typer(datasets_app, name="datasets")
