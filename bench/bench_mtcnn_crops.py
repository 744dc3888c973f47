"""MTCNN detection with facenet-pytorch's per-box crop loop (`Detector(batched_crops=False)`, the library's
`MTCNN.detect`) vs `mtcnn_detect`'s batched crops (one summed-area-table gather for all boxes, `Detector`'s
default): photos/s in batches and one at a time, side by side in one process on the same photos, interleaved
rounds; and whether the faces found are the same. LFW photos (250x250, one size: whole batches) and CelebA
photos (many sizes: `Detector` splits a chunk into one MTCNN call per size).

Run: FACE_DATA=../shared/data .venv/bin/python bench/bench_mtcnn_crops.py [--n 200] [--rounds 3] [--save]
--save writes bench/results/mtcnn_crops.json."""
import json, os, platform, time
from pathlib import Path
import numpy as np, torch
from face_research.core import face_data, list_images
from face_research.data import lfw_images
from face_research.align import Detector
from detector_race import spread, race, differences, bench_args

a = bench_args(200)
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
allp = lfw_images(root).path
sets = {'LFW': spread(allp.tolist(), a.n)}   # the photos of bench_pipeline.py
cel = face_data('celeba_subset')
if cel is not None:
    cp = sorted(list_images(Path(cel) / 'img_celeba'))
    sets['CelebA'] = spread(cp, a.n)
dets = {'library loop': Detector(device='cpu', batched_crops=False), 'batched crops': Detector(device='cpu', batched_crops=True)}
B = a.batch
out = {}
for sname, imgs in sets.items():
    med, t, res = race(dets, imgs, B, a.rounds)
    L, Bc = med['library loop'], med['batched crops']
    out[sname] = dict(n_photos=len(imgs), n_sizes=len({im.shape for im in imgs}), seconds=med, raw=t,
                      photos_per_s={n: {m: len(imgs) / v for m, v in d.items()} for n, d in med.items()},
                      speedup=dict(batched=L['batched'] / Bc['batched'], one_at_a_time=L['one_at_a_time'] / Bc['one_at_a_time']),
                      **differences(res['library loop'], res['batched crops']), n_faces=int(sum(len(x['boxes']) for x in res['library loop'])))
    print(f"{sname}: {len(imgs)} photos ({out[sname]['n_sizes']} sizes), {torch.get_num_threads()} threads, median of {a.rounds} interleaved rounds")
    print(f"  {'crops':16s} {'batches of ' + str(B):>16s} {'one at a time':>16s}")
    for n in dets: print(f"  {n:16s} {len(imgs) / med[n]['batched']:10.2f} ph/s {len(imgs) / med[n]['one_at_a_time']:10.2f} ph/s")
    o = out[sname]
    print(f"  batched crops speed-up: x{o['speedup']['batched']:.2f} in batches, x{o['speedup']['one_at_a_time']:.2f} one at a time; "
          f"same face count in {o['photos_same_face_count']}/{len(imgs)} photos; largest box / point difference {o['max_box_diff_px']:.2g} / {o['max_points_diff_px']:.2g} px")
if a.save:
    rec = dict(batch=B, rounds=a.rounds, threads=torch.get_num_threads(), machine=platform.processor() or platform.machine(),
               sets=out, load_average_end=os.getloadavg()[0], date=time.strftime('%Y-%m-%d %H:%M'))
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/mtcnn_crops.json', 'w') as f: json.dump(rec, f, indent=1)
    print('saved bench/results/mtcnn_crops.json')
