"""Shared by the MTCNN benches (bench_mtcnn_format.py, bench_mtcnn_crops.py): photos spread evenly over a collection,
interleaved timing rounds of several `Detector`s in batches and one photo at a time, and how far their faces differ."""
import argparse, time, warnings
import numpy as np
from face_research.core import read_image

def spread(paths:list, n:int)->list:
    "`n` photos taken evenly over `paths` (every len/n-th), decoded"
    return [read_image(p) for p in list(paths)[::max(1, len(paths) // n)][:n]]

def race(dets:dict, imgs:list, batch:int, rounds:int):
    "(median seconds, raw seconds, last results) per detector name, batched and one at a time, rounds interleaved"
    for d in dets.values(): d(imgs[:4])   # warm-up
    t = {n: dict(batched=[], one_at_a_time=[]) for n in dets}; res = {}
    for r in range(rounds):
        for n, d in dets.items():
            s = time.perf_counter(); res[n] = [x for i in range(0, len(imgs), batch) for x in d(imgs[i:i+batch])]; t[n]['batched'].append(time.perf_counter() - s)
            s = time.perf_counter(); [d([im]) for im in imgs]; t[n]['one_at_a_time'].append(time.perf_counter() - s)
    return {n: {m: float(np.median(v)) for m, v in d.items()} for n, d in t.items()}, t, res

def differences(ref:list, new:list)->dict:
    "photos with the same face count, and the largest box and point difference (px) where the counts agree"
    both = [(x, y) for x, y in zip(ref, new) if len(x['boxes']) and len(x['boxes']) == len(y['boxes'])]
    diff = lambda k: max((float(np.abs(x[k] - y[k]).max()) for x, y in both), default=0.)
    return dict(photos_same_face_count=int(sum(len(x['boxes']) == len(y['boxes']) for x, y in zip(ref, new))),
                max_box_diff_px=diff('boxes'), max_points_diff_px=diff('points'))

def bench_args(n:int)->argparse.Namespace:
    "--n photos (default `n`), --batch, --rounds, --save; library warnings off"
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=n); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--save', action='store_true')
    warnings.filterwarnings('ignore')
    return ap.parse_args()
