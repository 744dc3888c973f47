"""Whole-pipeline throughput on LFW photos: batched vs one photo at a time, next to MTCNN detection
alone on the same photos (the floor this pipeline cannot beat without a faster detector), and each
stage on its own, batched and one at a time, so the ratio can be explained.
Side by side in one process, same photos (already decoded), same models.

Run: FACE_DATA=../shared/data .venv/bin/python bench/bench_pipeline.py [--n 200] [--model models/recognizer.pth] [--rounds 3] [--save]
Each timing is the median of --rounds interleaved rounds (one round of the 200 photos varies by about 10% here).
Without a shipped recognizer, --random-init uses an untrained ResNet34 (same compute; throughput only).
--save writes bench/results/pipeline.json."""
import argparse, sys, json, os, platform, time, numpy as np, torch
from face_research.core import face_data, read_image, model_path
from face_research.data import lfw_images
from face_research.align import Detector, FaceAligner
from face_research.landmarks import Aligner
from face_research.embedder import Embedder, FaceEmbedder
from face_research.pipeline import FacePipeline

ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=200); ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--model', default=None); ap.add_argument('--random-init', action='store_true')
ap.add_argument('--device', default='cpu'); ap.add_argument('--save', action='store_true')
ap.add_argument('--rounds', type=int, default=3, help='interleaved rounds; the medians are reported')
ap.add_argument('--out', default='bench/results/pipeline.json', help='where --save writes')
a = ap.parse_args()
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
allp = lfw_images(root).path
paths = allp.iloc[::max(1, len(allp) // a.n)][:a.n].tolist()     # evenly spread over LFW (13,233: every 66th for 200)
imgs = [read_image(p) for p in paths]
n_distinct = len(imgs)
if len(imgs) < a.n: imgs = (imgs * -(-a.n // len(imgs)))[:a.n]     # a small copy of LFW (the GPU run's): photos reused
dev = a.device
det = Detector(device=dev)
emb = Embedder(FaceEmbedder('resnet34', 'ir'), device=dev) if a.random_init else Embedder(a.model or model_path('recognizer.pth'), device=dev)
emb_name = f"{emb.meta['backbone']}-{emb.meta['stem']}"   # e.g. resnet34-ir
fa = FaceAligner(Aligner.load(model_path('aligner.pth'), device=dev), detector=det, keep_all=True)
pl = FacePipeline(emb, fa, batch_size=a.batch)
pl1 = FacePipeline(emb, fa, batch_size=1)
sync = torch.cuda.synchronize if dev.startswith('cuda') else (lambda: None)
print(f"{len(imgs)} LFW photos (250x250; {n_distinct} distinct), device {dev}, torch threads {torch.get_num_threads()}, "
      f"embedder: {'random-init ' if a.random_init else ''}{emb_name} ({a.model or 'shipped'}), load average {os.getloadavg()[0]:.2f}")
pl(imgs[:4]); pl1(imgs[:2]); det(imgs[:4])   # warm-up
def timed(f):
    sync(); t = time.perf_counter(); r = f(); sync(); return time.perf_counter() - t, r
B, n = a.batch, len(imgs)
chunks = lambda xs: [xs[i:i + B] for i in range(0, len(xs), B)]
def median_of_rounds(fns:dict)->tuple:
    "median seconds of each function over `--rounds` interleaved rounds, the raw times, and each one's last result"
    raw, out = {k: [] for k in fns}, {}
    for _ in range(a.rounds):
        for k, f in fns.items(): t, out[k] = timed(f); raw[k].append(t)
    return {k: float(np.median(v)) for k, v in raw.items()}, raw, out
res = [r for c in chunks(imgs) for r in fa(c)]
crops = np.concatenate([r.crops for r in res if r.status == 'ok']); nf = len(crops)
med, raw, last = median_of_rounds(dict(
    det_b=lambda: [det(c) for c in chunks(imgs)], det_1=lambda: [det([im]) for im in imgs],
    fa_b=lambda: [r for c in chunks(imgs) for r in fa(c)], fa_1=lambda: [fa([im]) for im in imgs],
    emb_b=lambda: [emb.embed(c) for c in chunks(crops)], emb_1=lambda: [emb.embed(c[None]) for c in crops],
    pl_b=lambda: pl(imgs), pl_1=lambda: pl1(imgs)))
t_det_b, t_det_1, t_fa_b, t_fa_1, t_emb_b, t_emb_1, t_b, t_1 = (med[k] for k in ('det_b', 'det_1', 'fa_b', 'fa_1', 'emb_b', 'emb_1', 'pl_b', 'pl_1'))
rb, r1 = last['pl_b'], last['pl_1']
faces_b, faces_1 = sum(r.n for r in rb), sum(r.n for r in r1)
face_counts = dict(batched=faces_b, one_at_a_time=faces_1, aligned_first=nf)   # equal on the CPU; on CUDA a score at a
if not faces_b == faces_1 == nf:                       # threshold may differ by 1e-6 between batch sizes: recorded, not fatal
    print(f"warning: face counts differ between the modes: {face_counts}", file=sys.stderr)
# Amdahl: if batching made detection and alignment free, the batched pipeline could still not run
# faster than its embedder, so t_1 / (batched embedder time) bounds the ratio on this machine.
bound = t_1 / t_emb_b
# Is the embedder compute-bound? Its FLOP rate in batches next to a large fp32 matrix product's.
from torch.utils.flop_counter import FlopCounterMode
with FlopCounterMode(display=False) as fc, torch.no_grad(): emb.model(torch.rand(1, 3, 112, 112, device=dev))
gflop_face = fc.get_total_flops() / 1e9
m = torch.rand(2048, 2048, device=dev); m @ m
t_mm, _ = timed(lambda: [m @ m for _ in range(5)])
mm_gflops = 5 * 2 * 2048**3 / t_mm / 1e9
rows = [('MTCNN detection alone', t_det_b, t_det_1, 'photos'),
        ('detection + our aligner + warp', t_fa_b, t_fa_1, 'photos'),
        (f'embedder alone ({emb_name})', t_emb_b, t_emb_1, 'faces'),
        ('whole pipeline', t_b, t_1, 'photos')]
print(f"{'stage':34s} {'batches of ' + str(B):>16s} {'one at a time':>16s}  ratio")
for name, tb, t1, unit in rows:
    k = nf if unit == 'faces' else n
    print(f"{name:34s} {k/tb:9.2f} {unit:6s} {k/t1:9.2f} {unit:6s}  x{t1/tb:.2f}")
print(f"({nf} faces in {n} photos; medians of {a.rounds} interleaved rounds)")
print(f"whole pipeline, batched / one-at-a-time: x{t_1/t_b:.2f}")
print(f"share of the batched pipeline's time spent in the embedder: {t_emb_b/t_b:.0%}")
print(f"upper bound of the ratio here (batched detection+alignment for free): x{bound:.2f}")
print(f"embedder: {gflop_face:.2f} GFLOP a face, {gflop_face * nf / t_emb_b:.1f} GFLOP/s in batches; 2048x2048 fp32 matmul: {mm_gflops:.1f} GFLOP/s")
if a.save:
    out = dict(n_photos=n, n_faces=nf, face_counts=face_counts, batch=B, device=dev, threads=torch.get_num_threads(), machine=platform.processor() or platform.machine(),
               embedder='random-init' if a.random_init else (a.model or 'models/recognizer.pth'), load_average_end=os.getloadavg()[0],
               seconds={name: dict(batched=tb, one_at_a_time=t1, unit=unit) for name, tb, t1, unit in rows},
               ratio=t_1 / t_b, embedder_share=t_emb_b / t_b, ratio_bound=bound, embedder_gflop_per_face=gflop_face,
               embedder_gflops_batched=gflop_face * nf / t_emb_b, matmul_gflops=mm_gflops, date=time.strftime('%Y-%m-%d %H:%M'),
               rounds=a.rounds, raw_seconds=raw)
    out['n_distinct_photos'] = n_distinct
    cpu = [l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')] if os.path.exists('/proc/cpuinfo') else []
    from face_research.core import amp_speeds_up
    out.update(cpu=cpu[0] if cpu else None, embedder_autocast=bool(emb.amp if emb.amp is not None else amp_speeds_up(dev)))   # bf16 where native
    os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)
    with open(a.out, 'w') as f: json.dump(out, f, indent=1)
    print('saved', a.out)
