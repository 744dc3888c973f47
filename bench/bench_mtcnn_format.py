"""MTCNN detection on CPU with its nets in NCHW (facenet-pytorch's default) vs channels_last (`Detector`'s
default on CPU): photos/s in batches and one at a time, side by side in one process on the same LFW photos,
interleaved rounds; and whether the boxes are the same.

Why it matters: CPU max-pooling of NCHW tensors is several times slower than of NHWC ones (the script
times one P-Net-sized and one R-Net-sized pool both ways as well).

Run: FACE_DATA=../shared/data .venv/bin/python bench/bench_mtcnn_format.py [--n 96] [--rounds 3] [--save]
--save writes bench/results/mtcnn_format.json."""
import json, os, platform, time
import numpy as np, torch, torch.nn.functional as F
from face_research.core import face_data
from face_research.data import lfw_images
from face_research.align import Detector
from detector_race import spread, race, differences, bench_args

a = bench_args(96)
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
allp = lfw_images(root).path
imgs = spread(allp.tolist(), a.n)   # evenly spread over LFW
dets = {'NCHW (library default)': Detector(device='cpu', channels_last=False), 'channels_last': Detector(device='cpu', channels_last=True)}
B = a.batch
med, t, res = race(dets, imgs, B, a.rounds)
dif = differences(res['NCHW (library default)'], res['channels_last'])
same_n, box_diff = dif['photos_same_face_count'] == len(imgs), dif['max_box_diff_px']
pools = {}
for shape, k in (((16, 10, 148, 148), 2), ((2000, 28, 22, 22), 3)):
    x = torch.randn(shape); row = {}
    for fmt, xx in (('NCHW', x), ('channels_last', x.contiguous(memory_format=torch.channels_last))):
        F.max_pool2d(xx, k, 2, ceil_mode=True); s = time.perf_counter()
        for _ in range(5): F.max_pool2d(xx, k, 2, ceil_mode=True)
        row[fmt] = (time.perf_counter() - s) / 5 * 1e3
    pools[f"max_pool2d {k}x{k} on {tuple(shape)}"] = row
print(f"{len(imgs)} LFW photos, {torch.get_num_threads()} threads, median of {a.rounds} interleaved rounds")
print(f"{'MTCNN nets':24s} {'batches of ' + str(B):>16s} {'one at a time':>16s}")
for n in dets: print(f"{n:24s} {len(imgs) / med[n]['batched']:10.2f} ph/s {len(imgs) / med[n]['one_at_a_time']:10.2f} ph/s")
base = med['NCHW (library default)']; cl = med['channels_last']
print(f"channels_last speed-up: x{base['batched'] / cl['batched']:.2f} batched, x{base['one_at_a_time'] / cl['one_at_a_time']:.2f} one at a time")
print(f"same number of faces in every photo: {same_n}; largest box difference {box_diff:.2g} px")
for k, v in pools.items(): print(f"{k}: NCHW {v['NCHW']:.1f} ms, channels_last {v['channels_last']:.1f} ms")
if a.save:
    out = dict(n_photos=len(imgs), batch=B, rounds=a.rounds, threads=torch.get_num_threads(), machine=platform.processor() or platform.machine(),
               seconds=med, raw=t, photos_per_s={n: {m: len(imgs) / v for m, v in d.items()} for n, d in med.items()},
               same_faces=same_n, max_box_diff_px=box_diff, max_pool_ms=pools, load_average_end=os.getloadavg()[0], date=time.strftime('%Y-%m-%d %H:%M'))
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/mtcnn_format.json', 'w') as f: json.dump(out, f, indent=1)
    print('saved bench/results/mtcnn_format.json')
