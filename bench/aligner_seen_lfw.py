"""Does the aligner do better on the LFW photos it was trained on? (README: the five-point set holds 4,151 LFW
photos, and the LFW evaluations align LFW photos with that aligner.)

The shipped aligner's NME on the five-point set's LFW faces it trained on against the LFW faces held out of its
training (the same hash split as `train-aligner`), web faces alongside; and how many of the photos the LFW
evaluation embeds are among the trained-on ones.

  FACE_DATA=../shared/data .venv/bin/python bench/aligner_seen_lfw.py [--save]
"""
import argparse, json, time
from pathlib import Path
import numpy as np
from face_research.core import face_data, model_path, read_image
from face_research.data import read_landmarks5, lfw_image_root, lfw_images, lfw_pairs
from face_research.landmarks import Aligner, is_valid, source_of, landmark_report
from face_research.metrics import lfw_eval_images

ap = argparse.ArgumentParser(); ap.add_argument('--save', action='store_true'); a = ap.parse_args()
root = face_data('landmarks5'); lfw = face_data('lfw')
if root is None or lfw is None: raise SystemExit('set FACE_DATA (landmarks5/ and lfw/)')
paths, gt = read_landmarks5(root/'train.txt')
valid = is_valid(paths); src = np.array([source_of(p) for p in paths])
aligner = Aligner.load(model_path('aligner.pth'))            # its shipped prediction settings (two passes)
t = time.perf_counter(); pred = aligner.predict([read_image(p) for p in paths]); dt = time.perf_counter() - t
rows = {}
for s in sorted(set(src)):
    for name, m in (('trained on', ~valid), ('held out', valid)):
        sel = (src == s) & m
        r = landmark_report(pred[sel], gt[sel])
        rows[f"{s}, {name}"] = dict(n=int(sel.sum()), nme=r['nme'], failure_rate=r['failure_rate'])
iroot = lfw_image_root(lfw)
need = {Path(p).name for p in lfw_eval_images(lfw_pairs(lfw/'pairs.txt', iroot), lfw_images(iroot))[2]}
seen = {Path(p).name for p, v, s in zip(paths, valid, src) if s == 'lfw_5590' and not v}
res = dict(date=time.strftime('%Y-%m-%d %H:%M'), aligner=str(model_path('aligner.pth')), seconds=dt, rows=rows,
           lfw_eval_images=len(need), lfw_eval_images_trained_on=len(need & seen))
for k, v in rows.items(): print(f"{k:22s} n={v['n']:5d}  NME {v['nme']:.2f}%  failures {v['failure_rate']:.2f}%")
print(f"LFW evaluation photos among the aligner's training faces: {len(need & seen)} of {len(need)}")
if a.save:
    Path('bench/results').mkdir(exist_ok=True)
    Path('bench/results/aligner_seen_lfw.json').write_text(json.dumps(res, indent=1, default=float))
