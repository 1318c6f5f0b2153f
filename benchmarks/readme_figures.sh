#!/usr/bin/env bash
# Regenerate the README's ROC/DET figures from the shared LFW descriptors (needs ../shared/data).
# Usage: bash benchmarks/readme_figures.sh [OUT_DIR]   (figures are copied to docs/img/)
#        PARTS=cross-pose bash benchmarks/readme_figures.sh ...   (one figure: view2 or cross-pose)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/readme}
PARTS=${PARTS:-view2,cross-pose}
LFW=../shared/data/lfw
DESC=$LFW/descriptors_mobilefacenet_112x96.npz
M="plda,wccn,as-norm:metric=plda,k-reciprocal:metric=plda"
export OMP_NUM_THREADS=2 FACEMETRIC_NO_PROGRESS=1
mkdir -p docs/img
if [[ ",$PARTS," == *,view2,* ]]; then
  .venv/bin/facemetric benchmark "$LFW/pairs.txt" --test "$DESC" --flip sum --methods "$M" --out "$OUT/view2"
  cp "$OUT/view2/roc_det.png" docs/img/lfw_view2_roc_det.png
fi
if [[ ",$PARTS," == *,cross-pose,* ]]; then
  # negatives matched on pose (the default): never mined with the descriptors benchmarked here
  [ -f "$OUT/cross_pose.csv" ] || .venv/bin/facemetric protocol cross-pose --descriptors "$DESC" \
    --landmarks "$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/cross_pose.csv"
  .venv/bin/facemetric benchmark "$OUT/cross_pose.csv" --test "$DESC" --flip sum --methods "$M" --out "$OUT/cross-pose"
  cp "$OUT/cross-pose/roc_det.png" docs/img/lfw_cross_pose_roc_det.png
fi
