"""Re-run notebook cells and save their new outputs; other cells keep their saved outputs.

    FACE_DATA=../shared/data .venv/bin/python tools/refresh_cells.py nbs/09_pipeline.ipynb CELL_ID [CELL_ID ...] [--setup N]
    FACE_DATA=../shared/data .venv/bin/python tools/refresh_cells.py nbs/04_align.ipynb --empty

With cell ids: run the first N code cells (imports and shared definitions; `--setup`, default 1), then
those cells, e.g. cells that print a `bench/results/*.json` a bench script has just rewritten.
With `--empty`: run the notebook as `nbdev_test` does (cells with a `tst_flags` flag skipped) and save
outputs into the cells that have none, e.g. cells just edited with `tools/nbpy.py py2nb`, which drops
the outputs of changed cells."""
import sys, os, re
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def _skipped(c, flags):
    "Whether `nbdev_test` skips this cell"
    return c.cell_type != 'code' or any(re.search(rf'^\s*#\s*\|\s*{f}\s*$', c.source, re.M) for f in flags) \
           or re.search(r'^\s*#\s*\|\s*eval\s*:\s*false', c.source, re.M) is not None

def fill_empty(nb, sh):
    "Run every cell `nbdev_test` runs; keep the new outputs only of the cells that had none"
    from nbdev.config import get_config
    flags = get_config().tst_flags.split()
    empty = {c.id for c in nb.cells if c.cell_type == 'code' and not c.get('outputs') and not _skipped(c, flags)}
    saved = {c.id: c.get('outputs', []) for c in nb.cells if c.cell_type == 'code'}
    sh.run_all(nb, exc_stop=True, preproc=lambda c: _skipped(c, flags))
    for c in nb.cells:
        if c.cell_type == 'code' and c.id not in empty: c['outputs'] = saved[c.id]
    print(f"cells given outputs: {[c.id for c in nb.cells if c.id in empty and c.get('outputs')]}")

def refresh(nb, sh, ids, setup):
    "Run the first `setup` code cells, then the cells `ids`"
    code = [c for c in nb.cells if c.cell_type == 'code']
    for c in code[:setup]:
        sh.run(c.source)
        if sh.exc: raise RuntimeError(f"setup cell {c.get('id')} failed: {sh.exc}")
    found = set()
    for c in code:
        if c.get('id') in ids:
            sh.cell(c)
            if sh.exc: raise RuntimeError(f"cell {c.id} failed: {sh.exc}")
            found.add(c.id); print(f"--- {c.id}"); print(''.join(''.join(o['text']) if isinstance(o['text'], list) else o['text'] for o in c.outputs if 'text' in o))
    if ids - found: raise SystemExit(f"no code cell with id {sorted(ids - found)}")

def main():
    args = sys.argv[1:]; setup = 1
    if '--setup' in args: i = args.index('--setup'); setup = int(args[i + 1]); del args[i:i + 2]
    empty = '--empty' in args; args = [x for x in args if x != '--empty']
    path = os.path.abspath(args[0]); ids = set(args[1:])
    nb = read_nb(path)
    os.chdir(os.path.dirname(path))    # as nbdev_test runs it: from the notebook's folder
    sh = CaptureShell()
    if empty: fill_empty(nb, sh)
    else: refresh(nb, sh, ids, setup)
    write_nb(nb, os.path.basename(path))

if __name__ == '__main__': main()
