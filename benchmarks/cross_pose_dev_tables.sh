#!/usr/bin/env bash
# The cross-pose development protocols of docs/benchmarks.md, with benchmark's default grid.
#
#   benchmarks/cross_pose_dev_tables.sh [OUT_DIR]
#
# 1. a second descriptor model's descriptors of the pose-split test images (the hard-negative miner);
# 2. two pose splits of LFW (docs/protocols.md): dev-frontal-train (training photos |yaw| <= 20) and
#    dev-cfp-like (all training photos, pairs also written in CFP's layout);
# 3. the default grid on each (train/test mode; dev-cfp-like through --format cfp-fp, the held-out
#    check's own command) and on LFW View 2 (identity-disjoint k-fold);
# 4. the Markdown tables (benchmarks/cross_pose_tables.py).
# Single-threaded BLAS: on a shared, loaded machine two OpenBLAS threads made a PLDA fit ten
# times slower (spinning threads), one thread is the honest setting there.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-out/cross-pose-dev}")
LFW=${FACEMETRIC_SHARED:-../shared}/data/lfw
MODELS=${FACEMETRIC_SHARED:-../shared}/data/models
DESC=$LFW/descriptors_mobilefacenet_112x96.npz
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
FM=${FM:-.venv/bin/facemetric}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"

# the test images of the split (the same for both splits: same seed and test-people rules)
$FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/random-negatives"
$PY -c "from facemetric.io import load_descriptors; import sys; print('\n'.join(load_descriptors(sys.argv[1]).ids))" \
    "$OUT/random-negatives/test.npz" > "$OUT/test_images.txt"
$FM extract "$LFW/images" --detector "landmarks:$LFW/landmarks_mtcnn_5pt.txt" \
    --embedder "onnx:$MODELS/mobilefacenet_arcface_112.onnx" --flip --list "$OUT/test_images.txt" \
    --workers 2 --out "$OUT/miner.npz"
$FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --miner "$OUT/miner.npz" \
    --out "$OUT/dev-frontal-train"
$FM protocol pose-split -d "$DESC" -l "$LFW/landmarks_mtcnn_5pt.txt" --miner "$OUT/miner.npz" \
    --train-max-yaw none --cfp-layout --out "$OUT/dev-cfp-like"
$FM combine "$DESC" --names lfw --landmarks "lfw=$LFW/landmarks_mtcnn_5pt.txt" --out "$OUT/lfw_pose.npz"

$FM benchmark --train "$OUT/dev-cfp-like/train.npz" --test "$OUT/dev-cfp-like/test_cfp.npz" \
    "$OUT/dev-cfp-like/cfp" --format cfp-fp --out "$OUT/runs/cfp-like" --no-progress
$FM benchmark --train "$OUT/dev-frontal-train/train.npz" --test "$OUT/dev-frontal-train/test.npz" \
    "$OUT/dev-frontal-train/pairs.csv" --out "$OUT/runs/frontal-train" --no-progress
$FM benchmark "$LFW/pairs.txt" --test "$OUT/lfw_pose.npz" --out "$OUT/runs/view2" --no-progress
$PY benchmarks/cross_pose_tables.py "$OUT/runs/cfp-like" "$OUT/runs/frontal-train" "$OUT/runs/view2"
