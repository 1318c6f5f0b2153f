"""A grid of metrics over one protocol: scores, figures, and the change against cosine.

Each method is scored either by identity-disjoint k-fold on the test set's own folds
(no training set given) or in train/test mode. Scores of every method are cached in
``cache_dir`` (:mod:`facemetric.experiments.score_cache`), so an interrupted benchmark resumes.
Pairs with a side that has no descriptor get one policy for every method
(:mod:`facemetric.enrolment`): rejected by default, so that every method is judged on the same pairs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facemetric.enrolment import DEFAULT_MISSING, MissingPairs, find_missing, scorable_pairs
from facemetric.errors import ConfigError, FacemetricError, ProtocolError
from facemetric.experiments.driver import (
    accuracy_folds,
    identity_disjoint_kfold,
    single_fold_note,
    train_test_scores,
)
from facemetric.experiments.specs import MethodSpec
from facemetric.experiments.score_cache import cache_name, load_cached, save_cached, scores_fingerprint
from facemetric.experiments.scores import ProtocolScores
from facemetric.identity import pair_identities
from facemetric.types import DescriptorSet, PairProtocol

BASELINES = ("cosine", "l2")
REFERENCE = "cosine"


def with_baselines(specs: list[MethodSpec]) -> list[MethodSpec]:
    """The grid with cosine and L2 first (each once)."""
    labels = {s.label for s in specs}
    base = [MethodSpec(b) for b in BASELINES if b not in labels]
    return base + list(specs)


def score_method(spec: MethodSpec, test: DescriptorSet, protocol: PairProtocol,
                 train: DescriptorSet | None, on_fold: Callable[[int], None] | None = None) -> ProtocolScores:
    factory = spec.factory()
    if train is None:
        return identity_disjoint_kfold(factory, test, protocol, method=spec.label, on_fold=on_fold)
    return train_test_scores(factory, train, test, protocol, method=spec.label)


@dataclass
class BenchmarkRun:
    """Rows (JSON-ready dicts, one per method) and the scores behind them (of every protocol pair under
    ``missing="reject"``, of the scorable ones under "drop"); ``missing`` says which pairs lacked a descriptor."""

    rows: list[dict[str, Any]]
    scores: dict[str, ProtocolScores]
    notes: list[str] = field(default_factory=list)
    missing: MissingPairs | None = None

    def best(self, k: int = 3, exclude: tuple[str, ...] = BASELINES) -> list[str]:
        ok = [r for r in self.rows if r.get("auc") is not None and r["method"] not in exclude]
        return [r["method"] for r in sorted(ok, key=lambda r: -r["auc"])[:k]]


def _row(spec: MethodSpec, ps: ProtocolScores, n_bootstrap: int, seed: int, *, groups: Any = None,
         resample: str = "auto") -> dict[str, Any]:
    """One method's row. In k-fold mode each fold's accuracy threshold is the one its own model chose on its
    training folds' pairs (docs/protocols.md, "One k-fold rule"); the intervals resample ``groups``
    (the identities of both sides of every pair) unless ``resample`` says otherwise."""
    from facemetric.verify import evaluate_scores

    folds = accuracy_folds(ps.folds)
    thresholds = ps.own_thresholds() if ps.mode == "kfold" and folds is not None else None
    res = evaluate_scores(ps.labels, ps.scores, folds, groups=groups, resample=resample, n_bootstrap=n_bootstrap,
                          seed=seed, thresholds=thresholds).to_dict()
    row: dict[str, Any] = {
        "method": spec.label,
        "name": spec.name,
        "params": spec.params,
        "mode": ps.mode,
        "transductive": ps.transductive or spec.transductive,
        "auc": res["auc"],
        "auc_ci": res["cis"].get("auc"),
        "accuracy": res["accuracy"],
        "accuracy_std": res["accuracy_std"],
        "accuracy_se": res["accuracy_se"],
        "eer": res["eer"],
        "tar_at_far_1e-3": res["tar_at_far"].get("1e-3"),
        "tar_at_far": res["tar_at_far"],
        **ps.fold_auc_summary(),
        "fold_auc": ps.fold_auc,
        "fit_seconds": round(ps.fit_seconds, 4),
        "score_seconds": round(ps.score_seconds, 4),
        "n_train": ps.n_train,
        "n_pairs": res["n_pairs"],
        "n_folds": res["n_folds"],
        "threshold_rule": res["threshold_rule"],
        "thresholds_per_fold": res["thresholds_per_fold"],
        "cis": res["cis"],
        "resample": res["resample"],
        "n_resample_units": res["n_resample_units"],
    }
    return row


def add_change_vs_reference(rows: list[dict[str, Any]], scores: dict[str, ProtocolScores], *,
                            n_bootstrap: int, seed: int, groups: Any = None, resample: str = "auto") -> None:
    """Add ``one_minus_auc_change_pct`` (negative = fewer errors than cosine) and a paired p-value.

    k-fold mode compares per fold, paired (:mod:`facemetric.verify.fold_comparison`): the change is the
    mean over the folds of each fold's relative change of 1-AUC (one model, one score scale per fold),
    with its standard error, and the p-value is the exact sign-flip test over the folds; the pooled
    change is kept as ``one_minus_auc_change_pooled_pct``. Train/test mode (one model) compares the pooled
    AUCs, with the paired bootstrap over ``groups`` (identities) as the intervals.
    """
    from facemetric.verify import paired_test
    from facemetric.verify.fold_comparison import compare_per_fold

    ref = next((r for r in rows if r["method"] == REFERENCE and r.get("auc") is not None), None)
    for row in rows:
        row["one_minus_auc_change_pct"] = None
        row["p_value_vs_cosine"] = None
        if ref is None or row.get("auc") is None:
            continue
        base = 1.0 - ref["auc"]
        pooled = 100.0 * ((1.0 - row["auc"]) - base) / base if base > 0 else None
        ps, ref_ps = scores[row["method"]], scores[REFERENCE]
        folds = accuracy_folds(ps.folds)
        if ps.mode == "kfold" and folds is not None:
            cmp = compare_per_fold(ps.labels, ps.scores, ref_ps.scores, folds, seed=seed)
            row.update({
                "comparison": "per fold, paired: mean of the folds' relative changes of 1-AUC; exact sign-flip "
                              "test over the folds",
                "one_minus_auc_change_pct": 100.0 * cmp.mean if np.isfinite(cmp.mean) else None,
                "one_minus_auc_change_se": 100.0 * cmp.se if np.isfinite(cmp.se) else None,
                "one_minus_auc_change_per_fold_pct": [100.0 * v for v in cmp.per_fold],
                "one_minus_auc_change_pooled_pct": pooled,
            })
            if row["method"] != REFERENCE and np.isfinite(cmp.p_value):
                row["p_value_vs_cosine"], row["p_value_floor_vs_cosine"] = cmp.p_value, cmp.p_value_floor
            continue
        row["comparison"] = "pooled: relative change of 1-AUC; paired bootstrap"
        row["one_minus_auc_change_pct"] = pooled
        if row["method"] != REFERENCE and n_bootstrap > 0:
            test = paired_test(ps.labels, ps.scores, ref_ps.scores, metric="auc", folds=folds, groups=groups,
                               resample=resample, n_bootstrap=n_bootstrap, seed=seed)
            row["p_value_vs_cosine"] = test.p_value
            row["p_value_floor_vs_cosine"] = test.p_value_floor


def run_benchmark(
    specs: list[MethodSpec],
    test: DescriptorSet,
    protocol: PairProtocol,
    *,
    train: DescriptorSet | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: Any = None,
    stop_on_error: bool = False,
    missing: str = DEFAULT_MISSING,
    resample: str = "auto",
) -> BenchmarkRun:
    """Score every method (cosine and L2 always included) and evaluate it.

    A method that fails with a facemetric error (missing extra, bad parameter for these data)
    gets a row with ``error`` set and the others go on, unless ``stop_on_error``; a failing
    baseline always stops the run (the data are at fault).
    ``missing`` is the one policy for pairs with a side that has no descriptor in ``test``:
    "reject", "drop" or "error" (:mod:`facemetric.enrolment`). The intervals and the train/test paired test
    resample the identities of the pairs (``resample="auto"``; see :mod:`facemetric.verify.units`).
    ``progress`` is a rich Progress (or None).
    """
    if protocol.labels is None:
        raise ProtocolError(f"{protocol.name}: the protocol has no labels; a benchmark needs labelled pairs")
    if n_bootstrap < 0:
        raise ConfigError(f"The 'n_bootstrap' parameter must be >= 0. Got {n_bootstrap!r} instead.")
    if train is None and protocol.folds is None:
        raise ProtocolError(f"{protocol.name}: the protocol has no folds, so identity-disjoint k-fold cannot run; "
                            "give training descriptors (--train)")
    absent = find_missing(protocol, test, missing)
    scored = scorable_pairs(protocol, absent)
    groups = pair_identities(protocol if missing == "reject" else scored, test)
    specs = with_baselines(specs)
    for spec in specs:
        spec.factory()  # unknown names and parameters fail before any work
    cache = Path(cache_dir) if cache_dir is not None else None
    rows: list[dict[str, Any]] = []
    scores: dict[str, ProtocolScores] = {}
    n_steps = 1 if train is not None or protocol.folds is None else int(np.unique(protocol.folds).size)
    task = progress.add_task("methods", total=len(specs) * n_steps) if progress is not None else None
    for spec in specs:
        if progress is not None:
            progress.update(task, description=f"{spec.label}")
        fp = scores_fingerprint(spec, test, scored, train)
        path = cache / f"{cache_name(spec.label)}.npz" if cache is not None else None
        ps = load_cached(path, fp) if path is not None else None
        if ps is None:
            try:
                ps = score_method(spec, test, scored, train,
                                  on_fold=(lambda _f: progress.advance(task)) if progress is not None else None)
            except FacemetricError as exc:
                if stop_on_error or spec.name in BASELINES:  # a baseline failing means the data are at fault
                    raise
                rows.append({"method": spec.label, "name": spec.name, "params": spec.params, "auc": None,
                             "accuracy": None, "transductive": spec.transductive,
                             "error": str(exc)})
                if progress is not None:
                    progress.update(task, completed=(len(rows)) * n_steps)
                continue
            if path is not None:
                save_cached(path, fp, ps)
        if missing == "reject":
            ps = ps.with_rejections(protocol, absent)
        if progress is not None:
            progress.update(task, completed=(len(rows) + 1) * n_steps)
        scores[spec.label] = ps
        rows.append(_row(spec, ps, n_bootstrap, seed, groups=groups, resample=resample))
    add_change_vs_reference(rows, scores, n_bootstrap=n_bootstrap, seed=seed, groups=groups, resample=resample)
    ok = next((r for r in rows if r.get("n_folds")), None)
    note = single_fold_note(protocol, ok["n_folds"], seed) if ok else None
    return BenchmarkRun(rows=rows, scores=scores, notes=[note] if note else [], missing=absent)


# Default grid: every method that learns from training identities or adapts scores, then the
# classic recipe of cosine scoring after WCCN with score normalisation (Dehak et al. 2011), in
# the order of the report; then the cross-pose methods (docs/adaptation.md): pose-aware inductive
# scoring (they fall back to their pose-blind scores without landmarks/yaw) and test-set
# adaptation (flagged transductive). The metric-learn adapters are left out (optional extra, slow
# on >10k descriptors: ml-nca, ml-lmnn and ml-mlkr run only when named); calibration leaves AUC
# unchanged; fusion needs its members chosen.
DEFAULT_METHODS = (
    "center", "pca-whiten", "lda", "wccn", "lda-wccn", "joint-bayes", "plda", "kissme",
    "neural-linear", "neural-mlp", "z-norm", "t-norm", "s-norm", "as-norm", "test-center", "k-reciprocal",
    "s-norm:metric=wccn", "as-norm:metric=wccn", "k-reciprocal:metric=wccn",
    "as-norm:metric=plda", "pose-plda", "pose-norm", "pose-fusion", "neural-pose",
    "plda-adapt", "coral", "pseudo-id", "pseudo-id:rerank=true", "k-reciprocal:metric=plda",
)


def default_specs() -> list[MethodSpec]:
    """The default grid, restricted to the methods registered in this installation."""
    from facemetric.registry import METHODS
    from facemetric.experiments.specs import parse_method_spec

    specs = [parse_method_spec(text) for text in DEFAULT_METHODS]
    return [s for s in specs if s.name in METHODS and all(
        not isinstance(v, str) or k != "metric" or v in METHODS for k, v in s.params.items())]


def write_benchmark(run: BenchmarkRun, out_dir: str | Path, *, config: dict[str, Any], top: int = 3,
                    plot: bool = True) -> dict[str, Path]:
    """Write benchmark.json (the rows), benchmark.md, config.json, roc.png and roc_det.png
    (the best ``top`` methods against the baselines)."""
    from facemetric.io.atomic import write_text_atomic
    from facemetric.io.jsonable import jsonable
    from facemetric.experiments.report import benchmark_markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "benchmark.json", "markdown": out / "benchmark.md", "config": out / "config.json"}
    write_text_atomic(paths["json"], json.dumps(jsonable(run.rows), indent=2, allow_nan=False) + "\n")
    write_text_atomic(paths["markdown"], benchmark_markdown(run.rows))
    write_text_atomic(paths["config"], json.dumps(jsonable(config), indent=2, allow_nan=False) + "\n")
    if plot:
        from facemetric.verify.plots import save_roc, save_roc_det

        names = run.best(top) + [b for b in BASELINES if b in run.scores]
        curves = {n: (run.scores[n].labels, run.scores[n].scores) for n in names}
        protocol = config.get("protocol_name", "protocol")
        paths["roc"] = save_roc(curves, out / "roc.png", protocol=protocol)
        paths["roc_det"] = save_roc_det(curves, out / "roc_det.png", protocol=protocol)
    return paths
