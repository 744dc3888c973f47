# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
FACE_DATA ?= $(shell [ -d ../shared/data ] && echo ../shared/data)
export FACE_DATA

.PHONY: bootstrap demo test lab export clean-nbs

bootstrap:
	@bash tools/bootstrap.sh

## demo: the main job (set-up included)
demo: bootstrap
	$(BIN)/face-research demo --out outputs/demo

## test: export must leave face_research/ unchanged, then every notebook's tests
test: bootstrap
	@$(BIN)/nbdev_export
	@if [ -n "$$(git status --porcelain -- face_research)" ]; then \
	  echo "nbdev_export changed face_research/: notebooks and package are out of sync"; \
	  git status --porcelain -- face_research; exit 1; fi
	$(BIN)/python tools/test_nbs.py

## lab: JupyterLab on the venv's kernel
lab: bootstrap
	$(BIN)/jupyter lab --notebook-dir=nbs

export: bootstrap
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean
