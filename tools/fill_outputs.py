"""Run a notebook's tests as `nbdev_test` would (cells flagged with a `tst_flags` flag are skipped) and save the
outputs of the cells that have none yet, e.g. cells just edited with `tools/nbpy.py py2nb` (which drops the
outputs of changed cells). Cells that already have outputs, and skipped cells, keep what they have.

    FACE_DATA=../shared/data .venv/bin/python tools/fill_outputs.py nbs/04_align.ipynb"""
import os, re, sys
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.config import get_config

def main():
    path = os.path.abspath(sys.argv[1]); flags = get_config().tst_flags.split()
    nb = read_nb(path)
    skip = lambda c: c.cell_type != 'code' or any(re.search(rf'^\s*#\s*\|\s*{f}\s*$', c.source, re.M) for f in flags) \
                     or re.search(r'^\s*#\s*\|\s*eval\s*:\s*false', c.source, re.M) is not None
    empty = {c.id for c in nb.cells if c.cell_type == 'code' and not c.get('outputs') and not skip(c)}
    ran = read_nb(path)
    os.chdir(os.path.dirname(path))                      # as nbdev_test runs it: from the notebook's folder
    sh = CaptureShell(); sh.run_all(ran, exc_stop=True, preproc=skip)
    new = {c.id: c.get('outputs', []) for c in ran.cells if c.id in empty}
    filled = [i for i, o in new.items() if o]
    for c in nb.cells:
        if c.id in new: c['outputs'] = new[c.id]
    write_nb(nb, path)
    print(f"{os.path.basename(path)}: {len(filled)} cell(s) given outputs: {filled}")

if __name__ == '__main__': main()
