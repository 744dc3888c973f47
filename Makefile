# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
FACE_DATA ?= $(shell [ -d ../shared/data ] && echo ../shared/data)
# absolute, given or found: the notebooks run inside nbs/, where a relative path points elsewhere
override FACE_DATA := $(if $(FACE_DATA),$(abspath $(FACE_DATA)))
export FACE_DATA

.PHONY: bootstrap demo test lab export clean-nbs gpu-prep

bootstrap:
	@bash tools/bootstrap.sh

## demo: the main job (set-up included)
demo: bootstrap
	$(BIN)/face-research demo --out outputs/demo

## test: export must leave face_research/ unchanged (compared before/after, so uncommitted but synced edits pass), then every notebook's tests
PKG_HASH = find face_research -type f -name '*.py' | LC_ALL=C sort | xargs sha1sum | sha1sum
test: bootstrap
	@before=$$($(PKG_HASH)); $(BIN)/nbdev_export; after=$$($(PKG_HASH)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export changed face_research/: notebooks and package were out of sync (now re-exported; review with git diff)"; exit 1; fi
	$(BIN)/python tools/test_nbs.py

## lab: JupyterLab on the venv's kernel
lab: bootstrap
	$(BIN)/jupyter lab --notebook-dir=nbs

export: bootstrap
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

## gpu-prep: what a lent-GPU session carries (.gpu, .whl), from a fresh checkout (tools/gpu_prep.sh)
gpu-prep: bootstrap
	bash tools/gpu_prep.sh
