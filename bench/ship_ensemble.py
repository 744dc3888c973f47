"""Build a shipped ensemble file from member embedders and calibrate it from the members' LFW embedding caches.

1. `evaluate_lfw` on the members' caches joined (`metrics.read_embedding_caches`, `join_embeddings`;
   View-2 10-fold, TAR@FAR, identification rate), the same function `eval-lfw` runs.
2. `save_ensemble` writes OUT (one file, fp16 weights, each member's metadata kept) with the threshold at
   --fpr and those figures in its metadata.
3. OUT's own embeddings of --check random LFW crops (test-time flip) must equal the joined caches (to --tol, or
   each within --min-cos of its cached vector), so the caches stand for the file (else OUT is removed). This
   replaces an `eval-lfw --aligned DIR --flip --calibrate FPR` of the file (40 minutes on an AVX2-only CPU).
   fp32 caches made on the same machine match to 1e-5 (the default --tol). bf16 ones (a CPU with AMX, where
   autocast is on by default) and a GPU run's match only approximately: pass --min-cos 0.99.

  FACE_DATA=../shared/data .venv/bin/python bench/ship_ensemble.py --members A.pth B.pth --caches A.npz B.npz \\
      --aligned data/aligned/lfw -o outputs/recognizer_ensemble_new.pth [--weights 0.5,0.25,0.25] [--fpr 0.01] [--check 40]
--weights: fixed beforehand (not tuned on LFW), stored in the file (`EnsembleEmbedder(weights=...)`); default equal.
The caches are `outputs/cache/lfw-emb-*.npz` from `face-research eval-lfw --model M --aligned DIR --flip`, or a GPU run's
(`bench/gpu_session.py send --embeddings`): those were embedded on the device (AMP, WebP q95 crops, stored fp16); the
file's metadata then says the figures come from device embeddings."""
import argparse, json, time
from pathlib import Path
import numpy as np
from face_research.core import face_data
from face_research.data import lfw_image_root
from face_research.embedder import save_ensemble, Embedder
from face_research.metrics import evaluate_lfw, lookup_embedder, join_embeddings, read_embedding_caches
from face_research.recognition import load_faces

ap = argparse.ArgumentParser()
ap.add_argument('--members', nargs='+', required=True); ap.add_argument('--caches', nargs='+', required=True)
ap.add_argument('--aligned', required=True); ap.add_argument('-o', '--out', required=True)
ap.add_argument('--fpr', type=float, default=0.01); ap.add_argument('--check', type=int, default=40)
ap.add_argument('--tol', type=float, default=1e-5, help='largest difference allowed between the file\'s own embeddings and the joined caches')
ap.add_argument('--min-cos', type=float, default=None, help='or: lowest cosine allowed between each own embedding and its cached one (bf16 or GPU caches: 0.99)')
ap.add_argument('--weights', default=None, help='comma-separated member weights, fixed beforehand (default: equal)')
a = ap.parse_args()
if len(a.members) != len(a.caches): raise SystemExit('give one cache per member, in the same order')
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
paths, embs, mids = read_embedding_caches(a.caches)
for c, mid in zip(a.caches, mids):
    if 'flip' not in mid.split('|'): raise SystemExit(f"{c}: not a test-time-flip cache")   # bf16 caches end '|flip|bfloat16'
gpu = [c for c, mid in zip(a.caches, mids) if mid.startswith('gpu:')]     # bench/gpu_session.py send --embeddings
src = 'aligned crops' + (f"; {len(gpu)} of {len(mids)} members embedded on a GPU run's WebP crops under AMP" if gpu else '')
weights = None if a.weights is None else [float(v) for v in a.weights.split(',')]
joined = join_embeddings(embs, weights)
r = evaluate_lfw(lookup_embedder(joined, [str(lfw_image_root(root)/p) for p in paths]), root)
thr = float(r['threshold_at_fpr'][a.fpr])
res = json.loads(json.dumps(dict(lfw_accuracy=r['lfw_accuracy'], lfw_accuracy_std=r['lfw_accuracy_std'], tar_at_far=r['tar_at_far'],
                                 tpr_at_fpr=r['tpr_at_fpr'], threshold_at_fpr=r['threshold_at_fpr']), default=str))
out = save_ensemble(a.out, a.members, dict(threshold=thr, threshold_fpr=a.fpr,
                    threshold_source=f'LFW identification split ({src}, flip), bench/ship_ensemble.py',
                    lfw=dict(protocol=f'View-2 10-fold, test-time flip, {src}', **res)), weights=weights)
idx = np.random.default_rng(0).choice(len(paths), a.check, replace=False)
own = Embedder(out, 'cpu').embed(load_faces([str(Path(a.aligned)/paths[i]) for i in idx]), flip=True)
diff = float(np.abs(own - joined[idx]).max())
cos = float(((own * joined[idx]).sum(1) / (np.linalg.norm(own, axis=1) * np.linalg.norm(joined[idx], axis=1))).min())
print(f"file vs joined caches on {a.check} crops: max difference {diff:.2e}, lowest cosine {cos:.5f}")
if diff > a.tol and (a.min_cos is None or cos < a.min_cos):
    out.unlink()
    raise SystemExit('the caches do not stand for the members (other weights or crops?): no file written')
print(f"{out}: LFW {res['lfw_accuracy']:.4f} +- {res['lfw_accuracy_std']:.4f}, TPR@FPR 0.1 / 0.01 "
      f"{r['tpr_at_fpr'][0.1]:.3f} / {r['tpr_at_fpr'][0.01]:.3f}, threshold at FPR {a.fpr}: {thr:.4f}")
Path('bench/results').mkdir(exist_ok=True)
Path('bench/results/ship_ensemble.json').write_text(json.dumps(dict(
    date=time.strftime('%Y-%m-%d %H:%M'), out=str(out), members=a.members, caches=a.caches, weights=weights, check_max_diff=diff, check_min_cos=cos, tol=a.tol,
    threshold=thr, fpr=a.fpr, **res), indent=1, default=str))
