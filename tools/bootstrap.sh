#!/usr/bin/env bash
# Idempotent set-up of the project's virtual environment (used by `make demo`, `make test`,
# `make lab` and .ci/run). Fast when the venv is already up to date: a stamp file keyed on
# the pins (requirements.txt + settings.ini) says so.
# FACE_RESEARCH_VENV_CACHE=DIR builds the venv in DIR/venv-<key> and links .venv to it, so
# fresh clones (CI) reuse it; a fresh machine still builds it from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
key=$(cat requirements.txt settings.ini | sha1sum | cut -c1-12)
if [ -n "${FACE_RESEARCH_VENV_CACHE:-}" ]; then
  target="$FACE_RESEARCH_VENV_CACHE/venv-$key"
  mkdir -p "$FACE_RESEARCH_VENV_CACHE"
  if [ -L .venv ] || [ ! -e .venv ]; then ln -sfn "$target" .venv; fi
fi
stamp=.venv/.stamp-$key
if [ ! -f "$stamp" ]; then
  echo "== bootstrap: building .venv (key $key) =="
  [ -x .venv/bin/python ] || { rm -rf "$(readlink -f .venv 2>/dev/null || echo .venv)"; "$PYTHON" -m venv "$(readlink -f .venv 2>/dev/null || echo .venv)"; }
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  # facenet-pytorch's metadata pins torch 2.2: never let pip resolve it.
  .venv/bin/python -m pip install -q --no-deps facenet-pytorch==2.6.0
  rm -f .venv/.stamp-*
  touch "$stamp"
fi
# The editable install must point at *this* checkout (a cached venv may have served another).
here=$(pwd -P)
# (asked from / so that the checkout's own folder on sys.path cannot answer for the install)
py=$(pwd -P)/.venv/bin/python
there=$(cd / && "$py" -c "import face_research,os;print(os.path.dirname(os.path.dirname(os.path.realpath(face_research.__file__))))" 2>/dev/null || true)
if [ "$there" != "$here" ]; then
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >/dev/null
fi
