"""Embedding speed of the shipped ensemble file against the single shipped network, side by side in one process:
the same real aligned faces, `Embedder` as the pipeline runs it (batch 16, eval mode, channels_last), interleaved
rounds so both see the same machine load. Reports faces/s (median over rounds) and the ensemble's time ratio.

  .venv/bin/python bench/bench_ensemble_speed.py [--single models/recognizer_r34.pth] [--ensemble models/recognizer.pth]
                                                [--faces data/aligned/celeba] [--n 64] [--rounds 3] [--flip] [--save]
--save writes bench/results/ensemble_speed.json."""
import argparse, json, os, time, warnings
from pathlib import Path
import numpy as np, torch
from face_research.core import read_image
from face_research.data import identity_folders
from face_research.embedder import Embedder

ap = argparse.ArgumentParser()
ap.add_argument('--single', default='models/recognizer_r34.pth'); ap.add_argument('--ensemble', default='models/recognizer.pth')
ap.add_argument('--faces', default='data/aligned/celeba'); ap.add_argument('--n', type=int, default=64)
ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--flip', action='store_true'); ap.add_argument('--save', action='store_true')
a = ap.parse_args()
warnings.filterwarnings('ignore')
paths = identity_folders(a.faces).path.tolist()
sel = np.random.default_rng(0).choice(len(paths), a.n, replace=False)
faces = np.stack([read_image(paths[i]) for i in sel])
models = {'single': Embedder(a.single, 'cpu', batch_size=16), 'ensemble': Embedder(a.ensemble, 'cpu', batch_size=16)}
for m in models.values(): m.embed(faces[:16], flip=a.flip)          # warm-up
ts = {k: [] for k in models}
for r in range(a.rounds):
    for k, m in models.items():
        t = time.perf_counter(); m.embed(faces, flip=a.flip); ts[k].append(time.perf_counter() - t)
fps = {k: a.n / float(np.median(v)) for k, v in ts.items()}
ratio = fps['single'] / fps['ensemble']
for k in models: print(f"{k:9s} {fps[k]:6.2f} faces/s  ({models[k].meta['backbone']}, {models[k].meta['embedding_size']}-d)")
print(f"ensemble time / single time: {ratio:.2f}")
if a.save:
    Path('bench/results').mkdir(exist_ok=True)
    Path('bench/results/ensemble_speed.json').write_text(json.dumps(dict(
        date=time.strftime('%Y-%m-%d %H:%M'), machine=f'{os.cpu_count()} CPU cores, {torch.get_num_threads()} threads', flip=a.flip,
        faces=a.n, rounds=a.rounds, seconds=ts, faces_per_s=fps, time_ratio=ratio,
        load_avg_end=os.getloadavg()), indent=1))
    print('saved bench/results/ensemble_speed.json')
