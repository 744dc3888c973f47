"""LFW 10-fold accuracy with and without subtracting the mean embedding of the 9 training folds' images before the
cosine (the SphereFace evaluation protocol does this). The mean comes from LFW itself, so it adapts to the test
set's statistics without labels: a protocol variant, reported next to the plain figure, never instead of it.
The plain figure here equals `evaluate_lfw`'s (same pairs, same `best_threshold` per fold).

Run: FACE_DATA=../shared/data .venv/bin/python bench/lfw_fold_centring.py A.npz [B.npz ...] [--names a,b] [--save]
(caches from `face-research eval-lfw --aligned DIR --flip`; with several, their equal-weight ensemble too).
--save writes bench/results/lfw_fold_centring.json."""
import argparse, json, os, time
from pathlib import Path
import numpy as np
from face_research.core import face_data
from face_research.data import lfw_image_root, lfw_pairs
from face_research.metrics import read_embedding_caches, join_embeddings, unit_rows, best_threshold

ap = argparse.ArgumentParser(); ap.add_argument('caches', nargs='+'); ap.add_argument('--names', default=None)
ap.add_argument('--save', action='store_true'); a = ap.parse_args()
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
img_root = lfw_image_root(root)
pairs = lfw_pairs(next(p for p in (Path(root)/'pairs.txt', img_root.parent/'pairs.txt') if p.exists()), img_root)
paths, embs, mids = read_embedding_caches(a.caches)
pos = {p: i for i, p in enumerate(paths)}
rel = lambda p: str(Path(p).relative_to(img_root))
i1, i2 = np.array([pos[rel(p)] for p in pairs.path1]), np.array([pos[rel(p)] for p in pairs.path2])
same, fold = pairs.same.to_numpy(bool), pairs.fold.to_numpy()

def accuracy(X, centre:bool)->dict:
    "10-fold accuracy: threshold (and, with `centre`, the mean embedding) from the other 9 folds"
    accs = []
    for k in np.unique(fold):
        tr = fold != k
        mu = np.concatenate([X[i1[tr]], X[i2[tr]]]).mean(0) if centre else 0.
        U = np.asarray(unit_rows(X - mu)); s = (U[i1] * U[i2]).sum(1)
        t, _ = best_threshold(s[tr], same[tr]); accs.append(float(((s[~tr] > t) == same[~tr]).mean()))
    return dict(accuracy=float(np.mean(accs)), accuracy_std=float(np.std(accs)))

names = a.names.split(',') if a.names else [Path(c).stem[:60] for c in a.caches]
sets = list(zip(names, embs)) + ([('+'.join(names), join_embeddings(embs))] if len(embs) > 1 else [])
res = {}
for n, X in sets:
    res[n] = dict(plain=accuracy(X, False), fold_centred=accuracy(X, True))
    print(f"{n:50s} plain {res[n]['plain']['accuracy']:.4f}  centred on the training folds {res[n]['fold_centred']['accuracy']:.4f}")
if a.save:
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/lfw_fold_centring.json', 'w') as f:
        json.dump(dict(caches=a.caches, model_ids=mids, date=time.strftime('%Y-%m-%d %H:%M'), results=res), f, indent=1)
    print('saved bench/results/lfw_fold_centring.json')
