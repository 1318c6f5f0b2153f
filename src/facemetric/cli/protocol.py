"""`facemetric protocol`: build evaluation protocols (the LFW cross-pose protocol)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from facemetric.cli.common import console
from facemetric.cli.options import Flip

protocol_app = typer.Typer(help="Build evaluation protocols from a dataset.", no_args_is_help=True)


@protocol_app.command("cross-pose")
def cross_pose(
    descriptors: Path = typer.Option(..., "--descriptors", "-d", metavar="<file>", help="Descriptor set of "
                                     "the images of the dataset (identities from labels or folders); used "
                                     "for the hard negatives."),
    landmarks: Path = typer.Option(..., "--landmarks", "-l", metavar="<file>", help="5-point landmark list, "
                                   "one image per line: path x1 y1 x2 y2 score lex ley rex rey nx ny lmx lmy "
                                   "rmx rmy (e.g. lfw/landmarks_mtcnn_5pt.txt)."),
    out_path: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="Protocol to write (.csv with "
                                  "a,b,label,fold, or .npz); a .json sidecar next to it records the "
                                  "construction."),
    flip: Flip = typer.Option("auto", "--flip", metavar="<mode>", help="Flip fusion of the descriptors "
                              "used to mine negatives: auto, sum, concat or none."),
    n_folds: int = typer.Option(10, "--n-folds", help="Identity-disjoint folds."),
    pairs_per_fold: int = typer.Option(300, "--pairs-per-fold", help="Positive (and as many negative) pairs "
                                       "per fold."),
    max_pairs_per_identity: int = typer.Option(10, "--max-pairs-per-identity", help="Cap on the pairs of one "
                                               "class an identity takes part in."),
    max_image_uses: int = typer.Option(2, "--max-image-uses", help="Cap on the pairs of one class an image "
                                       "takes part in."),
    min_yaw_gap: float = typer.Option(0.0, "--min-yaw-gap", help="Smallest yaw gap (degrees) of a positive."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment and tie-breaks."),
) -> None:
    """Build a CPLFW-like cross-pose protocol: positives with the largest yaw gaps, hard negatives (the
    most similar impostors under cosine), identity-disjoint folds. See docs/protocols.md.

    Examples:

    - `facemetric protocol cross-pose -d lfw_all.npz -l data/lfw/landmarks_mtcnn_5pt.txt -o lfw_cross_pose.csv`
    - `facemetric protocol cross-pose -d lfw_all.npz -l landmarks.txt --n-folds 5 --pairs-per-fold 200 -o cp.csv`
    """
    from facemetric.io import load_descriptors, save_protocol
    from facemetric.detect.landmarks_file import read_landmarks_file
    from facemetric.experiments.driver import resolve_flip
    from facemetric.identity import identities_of
    from facemetric.io.atomic import check_output_file, write_text_atomic
    from facemetric.io.protocols.cross_pose import CrossPoseConfig, build_cross_pose_protocol, yaw_for_descriptors

    check_output_file(out_path)
    config = CrossPoseConfig(n_folds=n_folds, pairs_per_fold=pairs_per_fold,
                             max_pairs_per_identity=max_pairs_per_identity, max_image_uses=max_image_uses,
                             min_yaw_gap=min_yaw_gap, seed=seed)
    raw = load_descriptors(descriptors)
    used_flip = resolve_flip(flip, raw)
    ds = raw.fused(used_flip)
    landmark_ids, points = read_landmarks_file(landmarks)
    yaw = yaw_for_descriptors(ds.ids, landmark_ids, points)
    built = build_cross_pose_protocol(ds.ids, identities_of(ds), ds.X, yaw, config, name=out_path.stem)
    save_protocol(built.protocol, out_path)
    summary = {"descriptors": str(descriptors), "landmarks": str(landmarks), "flip": used_flip,
               "yaw_method": "nose offset from the eye-mouth midline / inter-ocular distance (facemetric.io.protocols.yaw)",
               **built.summary()}
    write_text_atomic(Path(str(out_path) + ".json"), json.dumps(summary, indent=2) + "\n")
    st = built.stats
    console.print(
        f"{st['n_pairs']} pairs ({st['n_positives']} positive, {st['n_negatives']} negative) in {n_folds} folds; "
        f"median yaw gap {st['positive_yaw_gap_median']:.1f} deg for positives, "
        f"{st['negative_yaw_gap_median']:.1f} deg for negatives; written to {out_path}", highlight=False,
    )
    short = [f["fold"] for f in st["folds"] if f["positives"] < pairs_per_fold or f["negatives"] < pairs_per_fold]
    if short:
        console.print(f"[yellow]warning:[/yellow] folds {short} have fewer than {pairs_per_fold} pairs of a class; "
                      "relax the caps or lower --pairs-per-fold", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `protocol` command group to ``app``."""
    app.add_typer(protocol_app, name="protocol")
