"""Re-run chosen cells of a notebook (after its setup cells) and save their new outputs, e.g. cells that
print a `bench/results/*.json` a bench script has just rewritten. Other cells keep their saved outputs.

    FACE_DATA=../shared/data .venv/bin/python tools/refresh_cells.py nbs/09_pipeline.ipynb CELL_ID [CELL_ID ...] [--setup N]

--setup N: how many leading code cells to run first (imports and shared definitions; default 1)."""
import sys, os
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def main():
    args = sys.argv[1:]; setup = 1
    if '--setup' in args: i = args.index('--setup'); setup = int(args[i + 1]); del args[i:i + 2]
    path, ids = args[0], set(args[1:])
    nb = read_nb(path)
    os.chdir(os.path.dirname(os.path.abspath(path)))    # as nbdev_test runs it: from the notebook's folder
    code = [c for c in nb.cells if c.cell_type == 'code']
    sh = CaptureShell()
    for c in code[:setup]:
        sh.run(c.source)
        if sh.exc: raise RuntimeError(f"setup cell {c.get('id')} failed: {sh.exc}")
    found = set()
    for c in code:
        if c.get('id') in ids:
            sh.cell(c)
            if sh.exc: raise RuntimeError(f"cell {c.id} failed: {sh.exc}")
            found.add(c.id); print(f"--- {c.id}"); print(''.join(''.join(o['text']) if isinstance(o['text'], list) else o['text'] for o in c.outputs if 'text' in o))
    if ids - found: raise SystemExit(f"no code cell with id {sorted(ids - found)} in {path}")
    write_nb(nb, os.path.basename(path))

if __name__ == '__main__': main()
