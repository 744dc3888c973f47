"""Inference speed of the shipped five-point aligner on 80x80 crops, batch 64, CPU.

Side by side in one process: the shipped predictor with its default settings (`Aligner`,
BatchNorm folded, fp32, two passes: the second on the face re-framed from the first), one
pass, two passes + flip averaging, one pass without BatchNorm folding, the shipped predictor under bf16 autocast (slow on CPUs without
native bf16, such as AVX2-only ones), and MTCNN's ONet (48x48, the last MTCNN stage) as a reference.
Each figure is the median of --runs timed calls after one warm-up call.

    .venv/bin/python bench/bench_aligner.py [--model models/aligner.pth] [--threads 2] [--runs 7] [--json]
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path
import numpy as np
import torch

def timed(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), ts

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='models/aligner.pth')
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--runs', type=int, default=7)
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from face_research.core import face_data
    from face_research.landmarks import Aligner, load_faces, is_valid, onet_points
    # real validation crops when the data is there, else random 80x80 crops (same cost)
    d = face_data('landmarks5')
    if d is not None:
        paths, imgs, _ = load_faces(d/'train.txt')
        batch = imgs.numpy()[is_valid(paths)][:a.bs]
    else:
        batch = np.random.default_rng(0).integers(0, 255, (a.bs, 80, 80, 3), dtype=np.uint8)
    res = {}
    def bf16(b):
        with torch.autocast('cpu', dtype=torch.bfloat16): return fused.predict(b, bs=a.bs, refine=False, flip=False)
    fused = Aligner.load(a.model, device='cpu')
    plain = Aligner.load(a.model, device='cpu', fuse=False)
    for name, fn in [('aligner, shipped default (2 passes)', lambda: fused.predict(batch, bs=a.bs)),
                     ('aligner, one pass', lambda: fused.predict(batch, bs=a.bs, refine=False, flip=False)),
                     ('aligner, 2 passes + flip averaging', lambda: fused.predict(batch, bs=a.bs, refine=True, flip=True)),
                     ('aligner, one pass, BN not folded', lambda: plain.predict(batch, bs=a.bs, refine=False, flip=False)),
                     ('aligner, one pass, bf16 autocast', lambda: bf16(batch)),
                     ('MTCNN ONet only, 48x48', lambda: onet_points(batch, bs=a.bs))]:
        med, ts = timed(fn, a.runs)
        res[name] = dict(faces_per_s=round(len(batch) / med, 1), median_s=round(med, 4), runs=[round(t, 4) for t in ts])
    info = dict(batch=len(batch), crop=list(batch.shape[1:3]), threads=torch.get_num_threads(), torch=torch.__version__,
                load=os.getloadavg()[0], model=a.model, results=res)
    if a.json: print(json.dumps(info)); return 0
    print(f"batch {len(batch)} crops {batch.shape[1]}x{batch.shape[2]}, {info['threads']} threads, load average {info['load']:.1f}")
    for k, v in res.items(): print(f"{k:32s} {v['faces_per_s']:8.1f} faces/s  (median {v['median_s']*1000:.1f} ms per batch)")
    return 0

if __name__ == '__main__': sys.exit(main())
