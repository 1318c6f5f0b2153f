#!/usr/bin/env bash
# The cross-pose development protocols of docs/benchmarks.md, with benchmark's default grid.
#
#   benchmarks/cross_pose_dev_tables.sh [OUT_DIR]        (FACEMETRIC_SHARED: the shared data, default ../shared)
#
# 1. a second descriptor model's descriptors of the pose-split test images (the hard-negative miner);
# 2. two pose splits of LFW (docs/protocols.md): dev-frontal-train (training photos |yaw| <= 20) and
#    dev-cfp-like (all training photos, pairs also written in CFP's layout);
# 3. the default grid on each (train/test mode; dev-cfp-like through --format cfp-fp, the held-out
#    check's own command) and on LFW View 2 (identity-disjoint k-fold), each timed; the cross-pose
#    methods on the unbiased LFW cross-pose protocol (k-fold);
# 4. each run's benchmark.json copied to docs/data/, then benchmarks/docs_tables.py regenerates the
#    tables of docs/benchmarks.md from them.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-out/cross-pose-dev}")
LFW=${FACEMETRIC_SHARED:-../shared}/data/lfw
MODELS=${FACEMETRIC_SHARED:-../shared}/data/models
DESC=$LFW/descriptors_mobilefacenet_112x96.npz
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2} MKL_NUM_THREADS=${MKL_NUM_THREADS:-2}
FM=${FM:-.venv/bin/facemetric}
PY=${PY:-.venv/bin/python}
STAGE=${STAGE:-all}   # splits | runs | all
mkdir -p "$OUT"

if [[ $STAGE != runs ]]; then
  # the test images of the split (the same for both splits: same seed and test-people rules)
  $FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/random-negatives"
  $PY -c "from facemetric.io import load_descriptors; import sys; print('\n'.join(load_descriptors(sys.argv[1]).ids))" \
      "$OUT/random-negatives/test.npz" > "$OUT/test_images.txt"
  $FM extract "$LFW/images" --detector "landmarks:$LFW/landmarks_mtcnn_5pt.txt" \
      --embedder "onnx:$MODELS/mobilefacenet_arcface_112.onnx" --flip --list "$OUT/test_images.txt" \
      --workers 2 --no-progress --out "$OUT/miner.npz"
  $FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --miner "$OUT/miner.npz" \
      --out "$OUT/dev-frontal-train"
  $FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --miner "$OUT/miner.npz" \
      --train-max-yaw none --cfp-layout --out "$OUT/dev-cfp-like"
  $FM combine "$DESC" --names lfw --landmarks "lfw=$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/lfw_pose.npz"
fi
[[ $STAGE == splits ]] && exit 0

timed() {  # NAME then the benchmark arguments; wall seconds to OUT/runs/NAME.seconds
  local name=$1; shift
  local t0; t0=$(date +%s)
  $FM benchmark "$@" --out "$OUT/runs/$name" --no-progress --no-plots
  echo $(( $(date +%s) - t0 )) > "$OUT/runs/$name.seconds"
  cp "$OUT/runs/$name/benchmark.json" "docs/data/$name.benchmark.json"
}
mkdir -p "$OUT/runs"
timed lfw-pose-cfp-like --train "$OUT/dev-cfp-like/train.npz" --test "$OUT/dev-cfp-like/test_cfp.npz" \
    "$OUT/dev-cfp-like/cfp" --format cfp-fp
timed lfw-pose-frontal-train --train "$OUT/dev-frontal-train/train.npz" --test "$OUT/dev-frontal-train/test.npz" \
    "$OUT/dev-frontal-train/pairs.csv"
timed lfw-view2-default-grid "$LFW/pairs.txt" --test "$OUT/lfw_pose.npz"
[ -f "$OUT/lfw_cross_pose.csv" ] || $FM protocol cross-pose --descriptors "$DESC" \
    --landmarks "$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/lfw_cross_pose.csv"
timed lfw-cross-pose-new-methods "$OUT/lfw_cross_pose.csv" --test "$OUT/lfw_pose.npz" --flip sum \
    --methods plda,pose-plda,pose-norm,pose-fusion,neural-pose,plda-adapt,coral,pseudo-id,pseudo-id:rerank=true
$PY benchmarks/docs_tables.py
