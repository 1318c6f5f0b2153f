"""`facemetric combine`: one training set from several descriptor sets, identities kept apart by source."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from facemetric.cli.common import console


def combine(
    sets: List[Path] = typer.Argument(..., metavar="<set>...", help="Descriptor sets (.npz or .parquet) to "
                                      "combine."),
    out: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="Combined descriptor set to write "
                             "(.npz or .parquet)."),
    names: Optional[str] = typer.Option(None, "--names", metavar="<a,b,...>", help="Comma-separated source "
                                        "names, one per set (default: the file names without extension)."),
    identity_map: Optional[Path] = typer.Option(None, "--identity-map", metavar="<file>", help="CSV with the "
                                                "header source,label,identity that merges people across "
                                                "sources (default: none are merged)."),
    landmarks: Optional[List[str]] = typer.Option(None, "--landmarks", metavar="<name=file>", help="Give "
                                                  "source NAME the 5 landmarks and yaw of a landmark list "
                                                  "(repeatable)."),
) -> None:
    """Combine descriptor sets into one training set. Image ids become SOURCE/ID and identities
    SOURCE:LABEL, so people of different sources stay apart unless --identity-map merges them.
    One set alone keeps its ids and identities: with --landmarks, that just adds pose to it.
    See docs/protocols.md.

    Examples:

    - `facemetric combine lfw.npz mine.npz --names lfw,mine --out train.npz`
    - `facemetric combine lfw.npz --landmarks lfw=data/lfw/landmarks_mtcnn_5pt.txt --out lfw_posed.npz`
    """
    from facemetric.cli.warnings_echo import echo_warnings
    from facemetric.detect.attach import with_landmarks
    from facemetric.errors import ConfigError
    from facemetric.io import load_descriptors, save_descriptors
    from facemetric.io.atomic import check_output_file
    from facemetric.trainset import Source, combine_sources, read_identity_map

    check_output_file(out)
    labels = [n.strip() for n in names.split(",")] if names else [p.stem for p in sets]
    if len(labels) != len(sets):
        raise ConfigError(f"--names gives {len(labels)} name(s) for {len(sets)} set(s); give one per set")
    points = {}
    for item in landmarks or []:
        name, sep, path = item.partition("=")
        if not sep or name not in labels:
            raise ConfigError(f"--landmarks must read NAME=FILE with NAME one of {', '.join(labels)}; got {item!r}")
        points[name] = Path(path)
    sources = []
    for name, path in zip(labels, sets):
        ds = load_descriptors(path)
        sources.append(Source(name, with_landmarks(ds, points[name]) if name in points else ds))
    mapping = read_identity_map(identity_map) if identity_map is not None else None
    with echo_warnings():
        combined = combine_sources(sources, mapping)
    save_descriptors(combined, out)
    n_ids = len(set(combined.labels.tolist()))
    parts = ", ".join(f"{s.name}: {len(s.descriptors)}" for s in sources)
    console.print(f"{len(combined)} descriptors of {n_ids} identities ({parts}) -> {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `combine` command to ``app``."""
    app.command("combine")(combine)
