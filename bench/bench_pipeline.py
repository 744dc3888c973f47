"""Whole-pipeline throughput on LFW photos: batched vs one photo at a time, next to MTCNN detection
alone on the same photos (the floor this pipeline cannot beat without a faster detector).
Side by side in one process, same photos (already decoded), same models.

Run: FACE_DATA=../shared/data .venv/bin/python bench/bench_pipeline.py [--n 200] [--model models/recognizer.pth]
Without a shipped recognizer, --random-init uses an untrained ResNet34 (same compute; throughput only)."""
import argparse, time, numpy as np, torch
from face_research.core import face_data, read_image, model_path
from face_research.data import lfw_images
from face_research.align import Detector, FaceAligner
from face_research.landmarks import Aligner
from face_research.embedder import Embedder, FaceEmbedder
from face_research.pipeline import FacePipeline

ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=200); ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--model', default=None); ap.add_argument('--random-init', action='store_true')
a = ap.parse_args()
root = face_data('lfw'); assert root is not None, 'set FACE_DATA'
paths = lfw_images(root).path.iloc[::max(1, 13233 // a.n)][:a.n].tolist()
imgs = [read_image(p) for p in paths]
det = Detector(device='cpu')
emb = Embedder(FaceEmbedder('resnet34', 'ir'), device='cpu') if a.random_init else Embedder(a.model or model_path('recognizer.pth'), device='cpu')
fa = FaceAligner(Aligner.load(model_path('aligner.pth'), device='cpu'), detector=det, keep_all=True)
pl = FacePipeline(emb, fa, batch_size=a.batch)
print(f"{len(imgs)} LFW photos (250x250), torch threads {torch.get_num_threads()}, embedder: {'random-init ResNet34-IR' if a.random_init else 'shipped'}")
pl(imgs[:4]); det(imgs[:4])   # warm-up
def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r
t_det_b, _ = timed(lambda: [det(imgs[i:i + a.batch]) for i in range(0, len(imgs), a.batch)])
t_det_1, _ = timed(lambda: [det([im]) for im in imgs])
t_b, rb = timed(lambda: pl(imgs))
pl1 = FacePipeline(emb, fa, batch_size=1)
t_1, r1 = timed(lambda: pl1(imgs))
n = len(imgs)
print(f"MTCNN detection alone, batches of {a.batch}: {n/t_det_b:6.1f} photos/s")
print(f"MTCNN detection alone, one at a time:  {n/t_det_1:6.1f} photos/s")
print(f"pipeline, batches of {a.batch}:            {n/t_b:6.1f} photos/s  ({sum(r.n for r in rb)} faces)")
print(f"pipeline, one photo at a time:        {n/t_1:6.1f} photos/s  ({sum(r.n for r in r1)} faces)")
print(f"batched / one-at-a-time: x{t_1/t_b:.2f}")
