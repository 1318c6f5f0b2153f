"""`facemetric protocol`: build evaluation protocols (the LFW cross-pose protocol, the frontal/turned pose split)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from facemetric.cli.common import console
from facemetric.cli.options import Flip

protocol_app = typer.Typer(help="Build evaluation protocols from a dataset.", no_args_is_help=True)


@protocol_app.command("cross-pose")
def cross_pose(
    descriptors: Path = typer.Option(..., "--descriptors", "-d", metavar="<file>", help="Descriptor set of "
                                     "the images of the dataset: which images exist and their identities "
                                     "(labels or folders). Its descriptor values are not used."),
    landmarks: Path = typer.Option(..., "--landmarks", "-l", metavar="<file>", help="5-point landmark list, "
                                   "one image per line: path x1 y1 x2 y2 score lex ley rex rey nx ny lmx lmy "
                                   "rmx rmy (e.g. lfw/landmarks_mtcnn_5pt.txt)."),
    out_path: Path = typer.Option(..., "--out", "-o", metavar="<file>", help="Protocol to write (.csv with "
                                  "a,b,label,fold, or .npz); a .json sidecar next to it records the "
                                  "construction and the mining source."),
    mine_with: Optional[Path] = typer.Option(None, "--mine-with", metavar="<file>", help="Hard negatives "
                                             "from a SECOND descriptor model: the impostors most similar "
                                             "under cosine on these descriptors of the same images. Refused "
                                             "when they are the --descriptors themselves. Default: "
                                             "negatives matched on yaw bands, drawn at random (no descriptor "
                                             "is used)."),
    yaw_band: float = typer.Option(10.0, "--yaw-band", help="Width (degrees) of the yaw bands that "
                                   "pose-matched negatives share with the positives."),
    flip: Flip = typer.Option("auto", "--flip", metavar="<mode>", help="Flip fusion of the --mine-with "
                              "descriptors: auto, sum, concat or none."),
    n_folds: int = typer.Option(10, "--n-folds", help="Identity-disjoint folds."),
    pairs_per_fold: int = typer.Option(300, "--pairs-per-fold", help="Positive (and as many negative) pairs "
                                       "per fold."),
    max_pairs_per_identity: int = typer.Option(10, "--max-pairs-per-identity", help="Cap on the pairs of one "
                                               "class an identity takes part in."),
    max_image_uses: int = typer.Option(2, "--max-image-uses", help="Cap on the pairs of one class an image "
                                       "takes part in."),
    min_yaw_gap: float = typer.Option(0.0, "--min-yaw-gap", help="Smallest yaw gap (degrees) of a positive."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment, the random negatives and "
                             "tie-breaks."),
) -> None:
    """Build a CPLFW-like cross-pose protocol: positives with the largest yaw gaps, identity-disjoint
    folds, and negatives mined without the descriptors under test: matched on yaw bands (default) or
    the hardest impostors of a second model (--mine-with). See docs/protocols.md.

    Examples:

    - `facemetric protocol cross-pose -d lfw_all.npz -l data/lfw/landmarks_mtcnn_5pt.txt -o lfw_cross_pose.csv`
    - `facemetric protocol cross-pose -d lfw_all.npz -l landmarks.txt --mine-with lfw_dlib.npz -o cp_hard.csv`
    - `facemetric protocol cross-pose -d lfw_all.npz -l landmarks.txt --n-folds 5 --pairs-per-fold 200 -o cp.csv`
    """
    import numpy as np

    from facemetric.io import load_descriptors, save_protocol
    from facemetric.detect.landmarks_file import read_landmarks_file
    from facemetric.errors import InputError
    from facemetric.experiments.driver import resolve_flip
    from facemetric.identity import identities_of
    from facemetric.io.atomic import check_output_file, write_text_atomic
    from facemetric.io.descriptors import descriptor_fingerprint, same_descriptor_model
    from facemetric.io.protocols.cross_pose import (
        CrossPoseConfig, build_cross_pose_protocol, construction_path, yaw_for_descriptors,
    )

    check_output_file(out_path)
    config = CrossPoseConfig(n_folds=n_folds, pairs_per_fold=pairs_per_fold,
                             max_pairs_per_identity=max_pairs_per_identity, max_image_uses=max_image_uses,
                             min_yaw_gap=min_yaw_gap, seed=seed, yaw_band=yaw_band,
                             negatives="pose" if mine_with is None else "descriptors")
    ds = load_descriptors(descriptors)
    landmark_ids, points = read_landmarks_file(landmarks)
    yaw = yaw_for_descriptors(ds.ids, landmark_ids, points)
    mining_X, mining_record, used_flip = None, {}, None
    if mine_with is not None:
        raw = load_descriptors(mine_with)
        fingerprint = descriptor_fingerprint(raw)
        if same_descriptor_model(fingerprint, descriptor_fingerprint(ds)):
            raise InputError(f"{mine_with}: these are the --descriptors themselves (same content or model); mining "
                             f"with the descriptors under test biases the protocol towards any other scorer. Give "
                             f"a second model's descriptors, or leave --mine-with out for pose-matched negatives")
        used_flip = resolve_flip(flip, raw)
        mining = raw.fused(used_flip)
        position = {s: i for i, s in enumerate(mining.ids)}
        rows = np.array([position.get(s, -1) for s in ds.ids])
        if not (rows >= 0).any():
            raise InputError(f"{mine_with}: no image id matches those of {descriptors} (e.g. "
                             f"{str(mining.ids[0])!r} and {str(ds.ids[0])!r}); both must list the same images")
        mining_X = np.full((len(ds.ids), mining.X.shape[1]), np.nan)
        mining_X[rows >= 0] = mining.X[rows[rows >= 0]]
        mining_record = {"descriptors": str(mine_with), "fingerprint": fingerprint, "flip": used_flip}
    built = build_cross_pose_protocol(ds.ids, identities_of(ds), yaw, config, mine_with=mining_X,
                                      name=out_path.stem)
    save_protocol(built.protocol, out_path)
    built.stats["mining"].update(mining_record)
    summary = {"descriptors": str(descriptors), "landmarks": str(landmarks),
               "yaw_method": "nose offset from the eye-mouth midline / inter-ocular distance (facemetric.io.protocols.yaw)",
               **built.summary()}
    write_text_atomic(construction_path(out_path), json.dumps(summary, indent=2) + "\n")
    st = built.stats
    source = (f"the {mine_with} model's most similar impostors" if mine_with is not None else
              f"random impostors matched on {yaw_band:g}-degree yaw bands ({st['mining']['band_matched']} of "
              f"{st['n_negatives']} matched)")
    console.print(
        f"{st['n_pairs']} pairs ({st['n_positives']} positive, {st['n_negatives']} negative) in {n_folds} folds; "
        f"median yaw gap {st['positive_yaw_gap_median']:.1f} deg for positives, "
        f"{st['negative_yaw_gap_median']:.1f} deg for negatives; negatives: {source}; written to {out_path}",
        highlight=False,
    )
    short = [f["fold"] for f in st["folds"] if f["positives"] < pairs_per_fold or f["negatives"] < pairs_per_fold]
    if short:
        console.print(f"[yellow]warning:[/yellow] folds {short} have fewer than {pairs_per_fold} pairs of a class; "
                      "relax the caps or lower --pairs-per-fold", highlight=False)


def _yaw_limit(text: str) -> float | None:
    if text.strip().lower() in ("none", "all"):
        return None
    try:
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"give degrees or 'none'; got {text!r}") from None


@protocol_app.command("pose-split")
def pose_split(
    descriptors: Path = typer.Option(..., "--descriptors", "-d", metavar="<file>", help="Labelled descriptor "
                                     "set of the dataset (identities from labels or folders), with yaw (from "
                                     "extract) or --landmarks."),
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="<dir>", help="Folder to write train.npz, "
                                 "test.npz, pairs.csv and split.json into."),
    landmarks: Optional[Path] = typer.Option(None, "--landmarks", "-l", metavar="<file>", help="5-point "
                                             "landmark list giving the yaw of each image (e.g. "
                                             "lfw/landmarks_mtcnn_5pt.txt)."),
    miner: Optional[Path] = typer.Option(None, "--miner", metavar="<file>", help="Descriptors of the test "
                                         "images from ANOTHER model: negatives are its hardest impostors "
                                         "(default: random impostors)."),
    frontal_max_yaw: float = typer.Option(10.0, "--frontal-max-yaw", metavar="<deg>", help="Test photos with "
                                          "an absolute yaw up to this are frontal."),
    turned_min_yaw: float = typer.Option(25.0, "--turned-min-yaw", metavar="<deg>", help="Test photos with an "
                                         "absolute yaw of at least this are turned."),
    train_max_yaw: str = typer.Option("20", "--train-max-yaw", metavar="<deg>", help="Keep training photos "
                                      "with an absolute yaw up to this, or none to keep all."),
    max_test_identities: int = typer.Option(500, "--max-test-identities", metavar="<n>", help="At most this "
                                            "many test people."),
    n_folds: int = typer.Option(10, "--n-folds", metavar="<n>", help="Identity-disjoint folds of the test "
                                "pairs."),
    cfp_layout: bool = typer.Option(False, "--cfp-layout", help="Also write the pairs in CFP's layout "
                                    "(OUT/cfp/Protocol, for --format cfp-fp) and OUT/test_cfp.npz with "
                                    "matching ids."),
    seed: int = typer.Option(0, "--seed", metavar="<n>", help="Seed of every random choice."),
) -> None:
    """Split a face set into frontal training photos and frontal-versus-turned test pairs of other
    people (a CFP-FP stand-in). Then benchmark with --train OUT/train.npz --test OUT/test.npz
    OUT/pairs.csv. See docs/protocols.md.

    Examples:

    - `facemetric protocol pose-split -d lfw_all.npz -l data/lfw/landmarks_mtcnn_5pt.txt -o lfw_pose`
    - `facemetric protocol pose-split -d lfw_all.npz -l landmarks.txt --miner other_model.npz -o split`
    """
    from facemetric.detect.attach import with_landmarks
    from facemetric.experiments.driver import resolve_flip
    from facemetric.io import load_descriptors, save_descriptors, save_protocol
    from facemetric.io.atomic import write_text_atomic
    from facemetric.io.protocols.cfp_write import save_cfp_fp
    from facemetric.io.protocols.pose_split import PoseSplitConfig, build_pose_split

    config = PoseSplitConfig(frontal_max_yaw=frontal_max_yaw, turned_min_yaw=turned_min_yaw,
                             train_max_yaw=_yaw_limit(train_max_yaw), max_test_identities=max_test_identities,
                             n_folds=n_folds, seed=seed)
    if out_dir.exists() and not out_dir.is_dir():
        raise typer.BadParameter(f"{out_dir} is a file; give a folder", param_hint="'--out'")
    ds = load_descriptors(descriptors)
    if landmarks is not None:
        ds = with_landmarks(ds, landmarks)
    mining = None
    if miner is not None:
        raw = load_descriptors(miner)
        mining = raw.fused(resolve_flip("auto", raw))
    built = build_pose_split(ds, config, miner=mining, name=out_dir.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_descriptors(built.train, out_dir / "train.npz")
    save_descriptors(built.test, out_dir / "test.npz")
    save_protocol(built.protocol, out_dir / "pairs.csv")
    summary = {"descriptors": Path(descriptors).name, "landmarks": None if landmarks is None else Path(landmarks).name,
               "miner": None if miner is None else Path(miner).name, **built.summary()}
    if cfp_layout:
        save_descriptors(save_cfp_fp(built.protocol, built.test, out_dir / "cfp"), out_dir / "test_cfp.npz")
        summary["cfp_root"] = "cfp"
    write_text_atomic(out_dir / "split.json", json.dumps(summary, indent=2) + "\n")
    st = built.stats
    console.print(
        f"{st['n_pairs']} pairs ({st['n_positives']} positive, {st['n_negatives']} negative) of "
        f"{st['test_identities']} test people; {st['train_images']} training photos of {st['train_identities']} "
        f"other people; negatives: {st['negatives']}; written to {out_dir}", highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `protocol` command group to ``app``."""
    app.add_typer(protocol_app, name="protocol")
