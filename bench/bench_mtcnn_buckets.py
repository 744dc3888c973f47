"""MTCNN detection on photos of many sizes (the CelebA in-the-wild subset: 1,015 sizes among 6,300 photos):
`Detector` batches only equal sizes by default, so a chunk of 16 CelebA photos makes about 14 MTCNN calls.
With `bucket=b`, photos whose sides round up to the same multiples of b share one call, padded black to the
largest of them. Side by side in one process, interleaved rounds, the same photos in chunks of `--batch`
(as align-dataset feeds them): photos/s and MTCNN calls for each setting, and whether the faces found are the
same as without padding (face count per photo, largest-face box and points).

Run: FACE_DATA=../shared/data .venv/bin/python bench/bench_mtcnn_buckets.py [--n 160] [--rounds 3] [--save]
--save writes bench/results/mtcnn_buckets.json."""
import argparse, json, os, platform, time, warnings
import numpy as np, torch
from face_research.core import face_data, read_image
from face_research.align import Detector

ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=160); ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--buckets', default='0,32,64,128'); ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--save', action='store_true')
a = ap.parse_args()
warnings.filterwarnings('ignore')
root = face_data('celeba_subset'); assert root is not None, 'set FACE_DATA'
files = sorted((root/'img_celeba').glob('*.jpg'))
files = files[::max(1, len(files) // a.n)][:a.n]                     # evenly spread over the collection
imgs = [read_image(p) for p in files]
buckets = [int(b) for b in a.buckets.split(',')]
dets = {b: Detector(device='cpu', bucket=b) for b in buckets}
calls = {}
for b, d in dets.items():                                            # count MTCNN calls per setting
    n, real = [0], d.mtcnn.detect
    def counting(batch, landmarks=True, _real=real, _n=n): _n[0] += 1; return _real(batch, landmarks=landmarks)
    d.mtcnn.detect = counting; d(imgs[:4]); n[0] = 0
    [d(imgs[i:i + a.batch]) for i in range(0, len(imgs), a.batch)]; calls[b] = n[0]
t = {b: [] for b in buckets}; res = {}
for r in range(a.rounds):
    for b, d in dets.items():
        s = time.perf_counter(); res[b] = [x for i in range(0, len(imgs), a.batch) for x in d(imgs[i:i + a.batch])]; t[b].append(time.perf_counter() - s)
ref = res[0]
def agreement(got):
    same_n = sum(len(x['boxes']) == len(y['boxes']) for x, y in zip(ref, got))
    both = [(x, y) for x, y in zip(ref, got) if len(x['boxes']) and len(y['boxes'])]
    box = [float(np.abs(x['boxes'][0] - y['boxes'][0]).max()) for x, y in both]
    pts = [float(np.abs(x['points'][0] - y['points'][0]).max()) for x, y in both]
    return dict(photos_same_face_count=same_n, largest_box_diff_px_median=float(np.median(box)), largest_box_diff_px_max=float(np.max(box)),
                points_diff_px_median=float(np.median(pts)), points_diff_px_max=float(np.max(pts)), photos_compared=len(both))
med = {b: float(np.median(v)) for b, v in t.items()}
rows = {b: dict(seconds=med[b], photos_per_s=len(imgs) / med[b], speedup=med[0] / med[b], mtcnn_calls=calls[b],
                calls_per_chunk=calls[b] / -(-len(imgs) // a.batch), **agreement(res[b])) for b in buckets}
print(f"{len(imgs)} CelebA photos ({len({im.shape for im in imgs})} sizes), chunks of {a.batch}, {torch.get_num_threads()} threads, "
      f"median of {a.rounds} interleaved rounds, load average {os.getloadavg()[0]:.1f}")
for b, r in rows.items():
    print(f"bucket {b:4d}: {r['photos_per_s']:6.2f} photos/s  x{r['speedup']:.2f}  {r['calls_per_chunk']:5.2f} MTCNN calls per chunk  "
          f"same face count {r['photos_same_face_count']}/{len(imgs)}  largest-face box diff median {r['largest_box_diff_px_median']:.2f} "
          f"max {r['largest_box_diff_px_max']:.1f} px, points median {r['points_diff_px_median']:.2f} max {r['points_diff_px_max']:.1f} px")
if a.save:
    out = dict(n_photos=len(imgs), n_sizes=len({im.shape for im in imgs}), batch=a.batch, rounds=a.rounds, threads=torch.get_num_threads(),
               machine=platform.processor() or platform.machine(), buckets=rows, raw=t, load_average_end=os.getloadavg()[0],
               date=time.strftime('%Y-%m-%d %H:%M'))
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/mtcnn_buckets.json', 'w') as f: json.dump(out, f, indent=1)
    print('saved bench/results/mtcnn_buckets.json')
