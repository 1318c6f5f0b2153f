"""The cross-pose methods on a simulation with known truth, where pose dominates the descriptors.

    python benchmarks/pose_simulation.py [--seed 0]

Training: 300 people x 6 photos, 80% frontal, the others turned by 15-35 degrees; test: 80 other
people x 10 photos, 60% frontal, the others turned by 35-80 degrees (a profile-like regime the
training set never shows); 800 frontal-versus-turned pairs, half genuine
(:mod:`facemetric.datasets.pose_simulation`). Prints each method's AUC and its change of
1-AUC against cosine (docs/adaptation.md). Seconds per method on one thread.
"""

from __future__ import annotations

import argparse
import time

from facemetric.experiments.driver import score_index_pairs
from facemetric.metrics import make_metric
from facemetric.datasets.pose_simulation import cross_pose_pairs, posed_people
from facemetric.verify import roc_auc

METHODS = ("cosine", "plda", "as-norm:metric=plda", "pose-plda", "pose-norm", "pose-fusion", "plda-adapt", "coral",
           "pseudo-id", "pseudo-id:rerank=true", "k-reciprocal:metric=plda")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from facemetric.experiments.specs import parse_method_spec

    train = posed_people(300, 6, seed=1 + args.seed, prefix="tr", min_yaw=15, max_yaw=35, frontal_fraction=0.8)
    test = posed_people(80, 10, seed=2 + args.seed, prefix="te")
    ia, ib, same = cross_pose_pairs(test, 800, seed=3 + args.seed)
    print("| method | transductive | AUC | 1-AUC vs cosine | seconds |\n|---|---|---|---|---|")
    base = None
    for text in METHODS:
        spec = parse_method_spec(text)
        t0 = time.perf_counter()
        metric = make_metric(spec.name, **spec.params).fit_descriptors(train)
        auc = roc_auc(same, score_index_pairs(metric, test.X, ia, ib, yaw=test.yaw))
        base = auc if base is None else base
        change = 100 * ((1 - auc) - (1 - base)) / (1 - base)
        print(f"| {spec.label} | {'yes' if spec.transductive else 'no'} | {auc:.4f} | {change:+.1f}% | "
              f"{time.perf_counter() - t0:.1f} |")


if __name__ == "__main__":
    main()
