"""Build a shipped ensemble file from member embedders and calibrate it from the members' LFW embedding caches.

1. `save_ensemble` joins the members into OUT (one file, fp16 weights, each member's metadata kept).
2. Its own embeddings of --check random LFW crops (test-time flip) are compared with the members' cached
   embeddings joined (`metrics.join_embeddings`): they must agree to 1e-5, so the caches stand for the file.
3. `evaluate_lfw` on the joined caches (View-2 10-fold, TAR@FAR, identification rate), the same function
   `eval-lfw` runs; the threshold at --fpr goes into OUT's metadata with the figures. This replaces a
   40-minute `eval-lfw --aligned DIR --flip --calibrate FPR` of the file on this CPU; that command gives the same.

  FACE_DATA=../shared/data .venv/bin/python bench/ship_ensemble.py --members A.pth B.pth --caches A.npz B.npz \\
      --aligned data/aligned/lfw -o models/recognizer_ensemble.pth [--fpr 0.01] [--check 40]
The caches are `outputs/cache/lfw-emb-*.npz` from `face-research eval-lfw --model M --aligned DIR --flip`."""
import argparse, json, time
from pathlib import Path
import numpy as np
from face_research.core import face_data
from face_research.data import lfw_image_root
from face_research.embedder import save_ensemble, Embedder
from face_research.metrics import evaluate_lfw, lookup_embedder, join_embeddings
from face_research.pipeline import set_model_threshold
from face_research.recognition import load_faces

ap = argparse.ArgumentParser()
ap.add_argument('--members', nargs='+', required=True); ap.add_argument('--caches', nargs='+', required=True)
ap.add_argument('--aligned', required=True); ap.add_argument('-o', '--out', required=True)
ap.add_argument('--fpr', type=float, default=0.01); ap.add_argument('--check', type=int, default=40)
a = ap.parse_args()
if len(a.members) != len(a.caches): raise SystemExit('give one cache per member, in the same order')
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
zs = [np.load(c, allow_pickle=False) for c in a.caches]
paths = list(zs[0]['paths'])
for c, z in zip(a.caches, zs):
    if list(z['paths']) != paths: raise SystemExit(f"{c}: lists other images than {a.caches[0]}")
    if not str(z['model_id']).endswith('|flip'): raise SystemExit(f"{c}: not a test-time-flip cache")
out = save_ensemble(a.out, a.members)
joined = join_embeddings([z['emb'].astype(np.float32) for z in zs])
idx = np.random.default_rng(0).choice(len(paths), a.check, replace=False)
own = Embedder(out, 'cpu').embed(load_faces([str(Path(a.aligned)/paths[i]) for i in idx]), flip=True)
diff = float(np.abs(own - joined[idx]).max())
print(f"file vs joined caches on {a.check} crops: max difference {diff:.2e}")
if diff > 1e-5: raise SystemExit('the caches do not stand for this file (other weights or crops?)')
img_root = lfw_image_root(root)
r = evaluate_lfw(lookup_embedder(joined, [str(img_root/p) for p in paths]), root)
thr = float(r['threshold_at_fpr'][a.fpr])
res = dict(lfw_accuracy=r['lfw_accuracy'], lfw_accuracy_std=r['lfw_accuracy_std'], tar_at_far=r['tar_at_far'],
           tpr_at_fpr=r['tpr_at_fpr'], threshold_at_fpr=r['threshold_at_fpr'])
set_model_threshold(out, thr, a.fpr, f"LFW identification split (aligned crops, flip), bench/ship_ensemble.py")
import torch, os
ck = torch.load(out, map_location='cpu', weights_only=True)
ck['meta']['lfw'] = json.loads(json.dumps(dict(protocol='View-2 10-fold, test-time flip, aligned crops', **res), default=str))
tmp = Path(str(out) + '.part'); torch.save(ck, tmp); os.replace(tmp, out)
print(f"{out}: LFW {res['lfw_accuracy']:.4f} +- {res['lfw_accuracy_std']:.4f}, TPR@FPR 0.1 / 0.01 "
      f"{r['tpr_at_fpr'][0.1]:.3f} / {r['tpr_at_fpr'][0.01]:.3f}, threshold at FPR {a.fpr}: {thr:.4f}")
Path('bench/results').mkdir(exist_ok=True)
Path('bench/results/ship_ensemble.json').write_text(json.dumps(dict(
    date=time.strftime('%Y-%m-%d %H:%M'), out=str(out), members=a.members, caches=a.caches, check_max_diff=diff,
    threshold=thr, fpr=a.fpr, **res), indent=1, default=str))
