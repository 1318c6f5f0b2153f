"""`facemetric templates`: build IJB-style template protocols and 1:N splits, verify template pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console, out
from facemetric.cli.options import FLIP_HELP, MODEL_HELP, NO_PROGRESS_HELP, SET_METHOD_HELP, TRAIN_HELP, Flip, Pooling
from facemetric.progress import progress_bar, progress_enabled

templates_app = typer.Typer(
    name="templates",
    help="Templates (sets of descriptors of one subject): IJB-B/C protocols, 1:N splits, template verification.",
    no_args_is_help=True,
)


@templates_app.command("build")
def build(
    descriptors: Path = typer.Argument(..., help="Labelled descriptor set (.npz/.parquet, or the LFW reference "
                                       ".npz)."),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Folder for NAME_face_tid_mid.txt and "
                                 "NAME_template_pair_label.txt."),
    name: str = typer.Option("templates", "--name", metavar="<prefix>", help="File name prefix (IJB uses ijbb, ijbc)."),
    images_per_template: int = typer.Option(3, "--images-per-template", help="Images of one identity per "
                                            "template."),
    impostors: int = typer.Option(1_000_000, "--impostors", help="Impostor template pairs drawn (all of them if "
                                  "fewer exist)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffles and of the impostor draw."),
) -> None:
    """Cut each identity's images into templates and write all genuine and sampled impostor template pairs.

    Examples:

    - `facemetric templates build lfw_dlib.npz --out lfw_templates/ --name lfw`
    - `facemetric templates build lfw.npz --out lfw_templates/ --images-per-template 2 --impostors 10000`
    """
    from facemetric.io import load_descriptors
    from facemetric.cli.errors import naming
    from facemetric.templates.builder import build_template_protocol
    from facemetric.templates.ijb import write_face_tid_mid, write_template_pair_label

    with naming(descriptors):
        tmap, pairs = build_template_protocol(load_descriptors(descriptors), images_per_template=images_per_template,
                                              n_impostors=impostors, seed=seed, name=name)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_face_tid_mid(tmap, out_dir / f"{name}_face_tid_mid.txt")
    write_template_pair_label(pairs, out_dir / f"{name}_template_pair_label.txt")
    n_gen = int(pairs.labels.sum())
    console.print(f"{tmap.template_ids.size} templates of {len(tmap)} images; {n_gen} genuine and "
                  f"{len(pairs) - n_gen} impostor pairs written to {out_dir}", highlight=False, soft_wrap=True)


@templates_app.command("split")
def split(
    descriptors: Path = typer.Argument(..., help="Labelled descriptor set to split."),
    gallery: Path = typer.Option(..., "--gallery", metavar="<file>", help="Gallery descriptor file to write (.npz/.parquet)."),
    probes: Path = typer.Option(..., "--probes", metavar="<file>", help="Probe descriptor file to write (.npz/.parquet)."),
    gallery_fraction: float = typer.Option(0.5, "--gallery-fraction", help="Share of an enrolled identity's "
                                           "images in the gallery (at least 1, at most all but 1)."),
    non_mated_fraction: float = typer.Option(0.2, "--non-mated-fraction", help="Share of identities left out of "
                                             "the gallery: their images are non-mated probes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
) -> None:
    """Split DESCRIPTORS into a gallery and probes for open-set 1:N search, by identity.

    Then `facemetric search GALLERY PROBES --out DIR` searches the probes against the gallery.

    Examples:

    - `facemetric templates split lfw_dlib.npz --gallery gallery.npz --probes probes.npz`
    - `facemetric templates split lfw.npz --gallery g.npz --probes p.npz --non-mated-fraction 0 --seed 1`
    """
    import numpy as np

    from facemetric.io import load_descriptors, save_descriptors
    from facemetric.templates.builder import split_gallery_probes

    g, p = split_gallery_probes(load_descriptors(descriptors), gallery_fraction=gallery_fraction,
                                non_mated_fraction=non_mated_fraction, seed=seed)
    save_descriptors(g, gallery)
    save_descriptors(p, probes)
    non_mated = int((~np.isin(p.labels, g.labels)).sum())
    console.print(f"gallery: {len(g)} images of {len(set(g.labels.tolist()))} identities -> {gallery}; probes: "
                  f"{len(p)} images ({non_mated} non-mated) -> {probes}", highlight=False, soft_wrap=True)


@templates_app.command("verify")
def verify(
    descriptors: Path = typer.Argument(..., help="Descriptor set holding every image of the templates."),
    templates: Path = typer.Argument(..., help="Template file: *_face_tid_mid.txt (or an IJB 1:N .csv list)."),
    pairs: Path = typer.Argument(..., help="Template pairs: *_template_pair_label.txt."),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Output folder for report.json, scores.csv, roc.png "
                                 "and det.png."),
    method: Optional[str] = typer.Option(None, "--method", "-m", metavar="<method>", help=SET_METHOD_HELP),
    model: Optional[Path] = typer.Option(None, "--model", metavar="<dir>", help=MODEL_HELP),
    train: Optional[Path] = typer.Option(None, "--train", metavar="<file>", help=TRAIN_HELP),
    flip: Optional[Flip] = typer.Option(None, "--flip", metavar="<mode>", help=FLIP_HELP),
    pooling: Pooling = typer.Option("auto", "--pooling", metavar="<mode>", help="Set scoring: auto (PLDA native, "
                                    "else mean), mean or native."),
    quality: Optional[Path] = typer.Option(None, "--quality", metavar="<file>", help="Quality weights: *_name_5pts_score.txt."),
    n_bootstrap: int = typer.Option(1000, "--n-bootstrap", help="Bootstrap replicates for the CIs (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and of the folds."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Do not write roc.png and det.png."),
    no_progress: bool = typer.Option(False, "--no-progress", help=NO_PROGRESS_HELP),
) -> None:
    """Score every template pair (set against set) and report AUC, accuracy, EER and TAR@FAR down to 1e-6.

    Examples:

    - `facemetric templates verify lfw.npz t/lfw_face_tid_mid.txt t/lfw_template_pair_label.txt --out r/`
    - `facemetric templates verify ijbb.npz ijbb_face_tid_mid.txt ijbb_template_pair_label.txt --model models/plda --out r/`
    """
    from facemetric.templates.verify import run_template_verification, write_template_scores
    from facemetric.verify.report import build_report, report_table, write_report

    with progress_bar(progress_enabled(False if no_progress else None)) as bar:
        task = bar.add_task("bootstrap", total=n_bootstrap)
        run = run_template_verification(descriptors, templates, pairs, method=method, model_dir=model,
                                        train_path=train, flip=flip, pooling=pooling, quality=quality,
                                        n_bootstrap=n_bootstrap, seed=seed, progress=lambda k: bar.advance(task, k))
    report = build_report(run.result, config=run.config)
    report["notes"] = run.notes
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(report, out_dir / "report.json")
    write_template_scores(run.pairs, run.scores, out_dir / "scores.csv")
    if not no_plots:
        from facemetric.verify.plots import save_det, save_roc

        curves = {run.config["method"]: (run.pairs.labels, run.scores)}
        save_roc(curves, out_dir / "roc.png")
        save_det(curves, out_dir / "det.png")
    for note in run.notes:
        console.print(note if note.startswith("warning:") else f"note: {note}", highlight=False, soft_wrap=True)
    out.print(report_table(report, title=f"{run.config['method']} on template pairs"))
    console.print(f"report written to {out_dir / 'report.json'}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `templates` command group to ``app``."""
    app.add_typer(templates_app, name="templates")
