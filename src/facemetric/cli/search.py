"""`facemetric search`: 1:N identification of probes against a gallery; CMC, open-set FNIR at FPIR."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console, out
from facemetric.cli.options import FLIP_HELP, MODEL_HELP, NO_PROGRESS_HELP, METHOD_HELP, TRAIN_HELP, Flip, Pooling
from facemetric.progress import progress_bar, progress_enabled


def search(
    gallery: Path = typer.Argument(..., help="Gallery descriptor set (.npz/.parquet, or the LFW reference .npz)."),
    probes: Path = typer.Argument(..., help="Probe descriptor set; the same file as GALLERY searches each image "
                                  "with itself left out."),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Output folder: report.json, cmc.png, det.png, "
                                 "candidates.csv."),
    method: Optional[str] = typer.Option(None, "--method", "-m", metavar="<method>", help=METHOD_HELP + " Default cosine; one "
                                          "that learns is fitted on --train, or else on the gallery (never the "
                                          "probes), as the report notes."),
    model: Optional[Path] = typer.Option(None, "--model", metavar="<dir>", help=MODEL_HELP),
    train: Optional[Path] = typer.Option(None, "--train", metavar="<file>", help=TRAIN_HELP),
    flip: Optional[Flip] = typer.Option(None, "--flip", metavar="<mode>", help=FLIP_HELP + " Default: the "
                                        "model's, else auto."),
    no_pool: bool = typer.Option(False, "--no-pool", help="Keep one gallery template per image (default: one "
                                 "pooled template per identity)."),
    gallery_templates: Optional[Path] = typer.Option(None, "--gallery-templates", metavar="<file>", help="Gallery templates: an IJB "
                                                     "*_face_tid_mid.txt or 1:N .csv list."),
    probe_templates: Optional[Path] = typer.Option(None, "--probe-templates", metavar="<file>", help="Probe templates, same "
                                                   "layouts (default: each probe image alone)."),
    quality: Optional[Path] = typer.Option(None, "--quality", metavar="<file>", help="Quality weights for pooling: an IJB "
                                           "*_name_5pts_score.txt file."),
    pooling: Pooling = typer.Option("auto", "--pooling", metavar="<mode>", help="Set scoring: auto (PLDA native, else mean), mean "
                                "or native."),
    max_rank: int = typer.Option(20, "--max-rank", help="Last rank of the CMC curve."),
    candidates: int = typer.Option(10, "--candidates", help="Candidates per probe in candidates.csv (0: none)."),
    open_set_rank: int = typer.Option(1, "--open-set-rank", help="Rank a mate must reach to count as found in "
                                      "the open-set figures."),
    memory_mib: int = typer.Option(256, "--memory-budget", help="MiB of scores held at once (blocks of probes "
                                   "x gallery)."),
    dask_workers: Optional[int] = typer.Option(None, "--dask-workers", help="Shard the gallery over a local Dask "
                                               "cluster of this many workers."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Shard the gallery over a running Dask "
                                            "cluster (tcp://HOST:PORT)."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write cmc.png and det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Search every probe against the GALLERY templates; report rank-k, the CMC and open-set FNIR at FPIR.

    Probes whose identity has no gallery template are non-mated: they give the open-set figures
    (FNIR at FPIR, the identification DET). Writes OUT/report.json with rank1, cmc, n_probes,
    n_gallery_templates and fnir_at_fpir.

    Examples:

    - `facemetric search gallery.npz probes.npz --out search/`
    - `facemetric search gallery.npz probes.npz --out search/ --model models/plda`
    - `facemetric search lfw_dlib.npz lfw_dlib.npz --out loo/ --method lda --train train.npz`
    """
    from facemetric.errors import ConfigError
    from facemetric.identification.engine import search_range
    from facemetric.identification.run import run_search, write_candidates
    from facemetric.verify.report import package_versions, write_report

    for name, value, low in (("--max-rank", max_rank, 1), ("--candidates", candidates, 0),
                             ("--open-set-rank", open_set_rank, 1), ("--memory-budget", memory_mib, 1)):
        if value < low:
            raise ConfigError(f"{name} must be >= {low}; got {value}")
    options = {"method": method, "model_dir": model, "train_path": train, "flip": flip, "pool": not no_pool,
               "gallery_templates": gallery_templates, "probe_templates": probe_templates, "quality": quality,
               "pooling": pooling, "max_rank": max_rank, "n_candidates": max(candidates, 1),
               "open_set_rank": open_set_rank, "budget": memory_mib << 20}
    with progress_bar(progress_enabled(False if no_progress else None)) as bar:
        task = bar.add_task("gallery columns searched", total=None)
        if dask_workers is None and scheduler is None:
            run = run_search(gallery, probes, runner=search_range, on_block=lambda n: bar.advance(task, n),
                             on_total=lambda n: bar.update(task, total=n), **options)
        else:
            from facemetric.scale import dask_client
            from facemetric.scale.search import DaskSearchRunner

            with dask_client(scheduler, workers=dask_workers) as client:
                runner = DaskSearchRunner(client, on_shard=lambda d, n: bar.update(task, completed=d, total=n))
                run = run_search(gallery, probes, runner=runner, **options)
                run.report["config"]["engine"] = "dask.distributed"
    report = run.report
    report["versions"] = package_versions()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(report, out_dir / "report.json")
    if candidates:
        write_candidates(run.result, out_dir / "candidates.csv", candidates)
    if not no_plots:
        from facemetric.identification.plots import save_cmc, save_identification_det

        name = report["config"]["method"]
        if report["cmc"]:
            save_cmc({name: report["cmc"]}, out_dir / "cmc.png")
        if "fnir_at_fpir" in report:
            save_identification_det({name: run.result.det(open_set_rank)}, out_dir / "det.png")
    for note in run.notes:
        console.print(note if note.startswith("warning:") else f"note: {note}", highlight=False, soft_wrap=True)
    out.print(_table(report))
    console.print(f"report written to {out_dir / 'report.json'}", highlight=False, soft_wrap=True)


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}%"


def _table(report: dict):
    from rich.table import Table

    table = Table(title=f"{report['config']['method']}: {report['n_probes']} probes ({report['n_non_mated']} "
                        f"non-mated), {report['n_gallery_templates']} gallery templates")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for r in (1, 5, 10, 20):
        if r <= len(report["cmc"]):
            table.add_row(f"rank-{r} identification rate", _pct(report["cmc"][r - 1]))
    for key, value in report.get("fnir_at_fpir", {}).items():
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            table.add_row(f"FNIR at FPIR={key} (rank {report['open_set_rank']})", _pct(value))
    return table


def register(app: typer.Typer) -> None:
    """Add the `search` command to ``app``."""
    app.command("search")(search)
