"""Measure how the aligner's training crops (landmarks5) sit around MTCNN's detector box, so that
the full-photo flow can frame detector boxes the same way (face_research.align.Framing).

Run: FACE_DATA=../shared/data .venv/bin/python bench/measure_framing.py [--n 600]
MTCNN runs in its best setting for small crops: edge-pad 16 px, upscale to 200 px."""
import argparse, numpy as np, torch, cv2
from facenet_pytorch import MTCNN
from face_research.core import face_data, read_image
from face_research.data import read_landmarks5

ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=600); a = ap.parse_args()
root = face_data('landmarks5'); assert root is not None, 'set FACE_DATA'
paths, pts = read_landmarks5(root/'train.txt')
idx = np.random.default_rng(0).choice(len(paths), a.n, replace=False)
m = MTCNN(keep_all=True, device='cpu'); pad, S = 16, 200
rows = []
for i in idx:
    im = read_image(paths[i]); h, w = im.shape[:2]
    big = cv2.resize(cv2.copyMakeBorder(im, pad, pad, pad, pad, cv2.BORDER_REPLICATE), (S, S))
    b, _ = m.detect(big)
    if b is None: continue
    bb = b[0] * ((w + 2*pad) / S) - pad
    bw, bh = bb[2]-bb[0], bb[3]-bb[1]; cx, cy = (bb[0]+bb[2])/2, (bb[1]+bb[3])/2
    rows.append((w / max(bw, bh), (w/2 - cx) / bw, (h/2 - cy) / bh, np.linalg.norm(pts[i, 0] - pts[i, 1]) / bw, 'lfw_5590' in paths[i]))
a_ = np.array([r[:4] for r in rows]); src = np.array([r[4] for r in rows])
print(f"MTCNN found a face in {len(rows)} of {len(idx)} crops")
for name, sel in [('all', np.ones(len(a_), bool)), ('lfw_5590', src), ('net_7876', ~src)]:
    s = a_[sel]
    print(f"{name:9s} n={sel.sum():4d}  crop side / box longer side: median {np.median(s[:,0]):.3f}  "
          f"centre shift dx {np.median(s[:,1]):+.3f} dy {np.median(s[:,2]):+.3f} (box units)  eye distance / box width {np.median(s[:,3]):.3f}")
