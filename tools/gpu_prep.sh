#!/usr/bin/env bash
# Everything a lent-GPU session needs, from a fresh checkout, on this CPU (`make gpu-prep`):
#   the venv, the aligned CelebA and LFW sets (align-dataset resumes: a finished set costs seconds),
#   .gpu/ (bench/gpu_session.py pack: WebP crops, pairs, pipeline photos, the committed package) and
#   .whl/ (the fastai stack and facenet-pytorch as wheels for the device's Python 3.12, which has torch
#   and cv2 but no fastai). Then it prints the size report and the device command.
# Seen on 2026-11-29 from a fresh checkout: venv about 4 min, CelebA 105 s, LFW 181 s, pack and wheels about 1 min;
# .gpu 56 MiB + .whl 4 MiB + the tree without the files the call leaves behind 1.6 MiB: 62 of the 64 MiB that travel.
# FACE_DATA: the shared data (default ../shared/data). GPU_PREP_DRY=1 packs a tiny subset for a CPU dry run
# (bench/gpu_session.py's docstring), into /tmp/drygpu instead of .gpu.
set -euo pipefail
cd "$(dirname "$0")/.."
FACE_DATA=${FACE_DATA:-../shared/data}
[ -d "$FACE_DATA/celeba_subset" ] && [ -f "$FACE_DATA/lfw/pairs.txt" ] || {
  echo "gpu-prep: FACE_DATA=$FACE_DATA has no celeba_subset/ or lfw/pairs.txt (see data/README.md)" >&2; exit 1; }
FACE_DATA=$(cd "$FACE_DATA" && pwd); export FACE_DATA
bash tools/bootstrap.sh
B=.venv/bin
$B/face-research align-dataset "$FACE_DATA/celeba_subset" --out data/aligned/celeba --workers 2 --batch 8 --min-face 30
$B/face-research align-dataset "$FACE_DATA/lfw" --out data/aligned/lfw --workers 2 --batch 16 --min-face 40
out=.gpu; dry=()
if [ -n "${GPU_PREP_DRY:-}" ]; then out=/tmp/drygpu; dry=(--dry); fi
$B/python bench/gpu_session.py pack --lfw data/aligned/lfw --celeba data/aligned/celeba \
  --pairs "$FACE_DATA/lfw/pairs.txt" --raw-lfw "$FACE_DATA/lfw" --out "$out" "${dry[@]}"
# the versions installed in the venv (the tested pins); plum-dispatch is the one wheel that is not pure Python
pins=$($B/python -c "from importlib.metadata import version as v; print(' '.join(f'{n}=={v(n)}' for n in
  'fastai fastcore fastprogress fastdownload fasttransform beartype facenet-pytorch'.split()))")
rm -rf .whl; mkdir -p .whl          # one version of each: two stop the install on the device
$B/python -m pip download -q --no-deps -d .whl $pins
$B/python -m pip download -q --no-deps -d .whl --python-version 3.12 --implementation cp --only-binary=:all: \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  "plum-dispatch==$($B/python -c "from importlib.metadata import version; print(version('plum-dispatch'))")"
$B/python bench/gpu_session.py size
cat <<'EOF'
gpu-prep done. For the call (bench/gpu_session.py's docstring has the details):
  rm -rf /tmp/gpu_stash && mkdir -p /tmp/gpu_stash/nbs && mv models/recognizer*.pth /tmp/gpu_stash/ && \
    mv nbs/*.ipynb /tmp/gpu_stash/nbs/ && mv bench/results /tmp/gpu_stash/      # tree + carry < 64 MiB
  run(carry=[".gpu", ".whl"], timeout_s=590, command="pip install -q --no-deps .whl/*.whl && PYTHONPATH=.gpu/pkg python3 bench/gpu_session.py run --budget 500 --out $OUT --set seeds")
  at once (the machine stays warm 30 s), if wanted: run(command="PYTHONPATH=.gpu/pkg python3 bench/gpu_session.py send --embeddings --out $OUT")
  mv /tmp/gpu_stash/recognizer*.pth models/ && mv /tmp/gpu_stash/nbs/*.ipynb nbs/ && mv /tmp/gpu_stash/results bench/   # restore
  .venv/bin/python bench/gpu_session.py unpack <files_at> --to outputs/gpu/recognizer.pth
EOF
