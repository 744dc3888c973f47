"""Equal-weight ensembles of models already evaluated by `face-research eval-lfw` (their embedding caches,
outputs/cache/lfw-emb-*.npz): the members' unit vectors are concatenated and scaled by 1/sqrt(k), so a pair's
cosine is the mean of the members' cosines. Members and ensemble go through the library's `evaluate_lfw` (View-2
10-fold accuracy, TAR@FAR, identification rate) via a lookup embed function, exactly like one model.
The weights are equal on purpose: tuning them on LFW would select on the test set. `--weights` adds one
fixed weighting to the report (a pair's cosine = sum of weight x member cosine; e.g. 0.5,0.25,0.25: half on a
first network, a quarter on each of two others), as a measured what-if, not a tuned result.

Run: FACE_DATA=../shared/data .venv/bin/python bench/ensemble_lfw.py A.npz B.npz [...] [--names a,b] [--weights 0.5,0.25,0.25] [--save NAME]
--save writes bench/results/ensemble_NAME.json."""
import argparse, json, os, time
import numpy as np
from pathlib import Path
from face_research.core import face_data
from face_research.data import lfw_image_root
from face_research.metrics import evaluate_lfw, lookup_embedder, join_embeddings, read_embedding_caches

ap = argparse.ArgumentParser(); ap.add_argument('caches', nargs='+'); ap.add_argument('--names', default=None)
ap.add_argument('--weights', default=None, help='comma-separated member weights (summing to 1) for one extra weighted ensemble')
ap.add_argument('--save', default=None); a = ap.parse_args()
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
img_root = lfw_image_root(root)
names = a.names.split(',') if a.names else [Path(c).stem[:60] for c in a.caches]
paths, embs, mids = read_embedding_caches(a.caches)
full = [str(img_root/p) for p in paths]       # the caches list paths relative to the LFW image folder
keys = ('lfw_accuracy', 'lfw_accuracy_std', 'tar_at_far', 'tpr_at_fpr', 'threshold_at_fpr')
res = {}
for n, mid, E in zip(names, mids, embs):
    r = evaluate_lfw(lookup_embedder(E, full), root); res[n] = dict(model_id=mid, **{k: r[k] for k in keys})
r = evaluate_lfw(lookup_embedder(join_embeddings(embs), full), root)
res['equal-weight ensemble'] = dict(members=names, **{k: r[k] for k in keys})
if a.weights:
    w = [float(x) for x in a.weights.split(',')]
    if len(w) != len(embs) or abs(sum(w) - 1) > 1e-6: raise SystemExit(f'--weights: {len(embs)} weights summing to 1, got {w}')
    r = evaluate_lfw(lookup_embedder(join_embeddings(embs, w), full), root)   # a pair's cosine is sum_i w_i cos_i
    res[f'weighted ensemble {a.weights}'] = dict(members=names, weights=w, **{k: r[k] for k in keys})
for n, v in res.items():
    print(f"{n:40s} LFW {v['lfw_accuracy']:.4f} +- {v['lfw_accuracy_std']:.4f}  TPR@FPR0.1 {v['tpr_at_fpr'][0.1]:.3f}  TPR@FPR0.01 {v['tpr_at_fpr'][0.01]:.3f}")
if a.save:
    os.makedirs('bench/results', exist_ok=True); out = f'bench/results/ensemble_{a.save}.json'
    with open(out, 'w') as fh: json.dump(dict(caches=a.caches, date=time.strftime('%Y-%m-%d %H:%M'), results=res), fh, indent=1, default=str)
    print('saved', out)
