"""`nbdev_test` with a count: runs every notebook's tests exactly as `nbdev_test` does (same
`test_nb`, same `tst_flags` from settings.ini), then prints one line per notebook and a closing
`N passed, N failed` line. Exit status 1 if any notebook failed.
Usage: python tools/test_nbs.py [NOTEBOOK_OR_GLOB ...] [--flags "slow"] [--workers N]"""
import argparse, sys, time
from pathlib import Path
from fastcore.parallel import parallel
from nbdev.config import get_config
from nbdev.test import test_nb

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('paths', nargs='*', help='notebooks (default: nbs/[0-9]*.ipynb and nbs/index.ipynb)')
    ap.add_argument('--flags', default='', help='space-separated tst_flags to run anyway')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    cfg = get_config()
    nbs = Path(cfg.nbs_path)
    files = [Path(p) for p in a.paths] or sorted(nbs.glob('[0-9]*.ipynb')) + sorted(nbs.glob('index.ipynb'))
    files = [f.absolute() for f in files]
    t0 = time.time()
    res = parallel(test_nb, files, skip_flags=cfg.tst_flags.split(), force_flags=a.flags.split(),
                   n_workers=min(a.workers, len(files)), basepath=cfg.config_path, pause=0.01)
    passed = 0
    for f, (ok, t) in zip(files, res):
        print(f"{'PASS' if ok else 'FAIL'}  {f.name}  ({t:.0f}s)")
        passed += bool(ok)
    failed = len(files) - passed
    print(f"tests: {passed} passed, {failed} failed  ({time.time()-t0:.0f}s, notebooks)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
