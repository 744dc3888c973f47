"""Does `eval-lfw` through the full pipeline (raw photos) see the same faces as `eval-lfw --aligned`?

The full-pipeline LFW run embeds ~10,000 photos with ResNet34-IR and takes hours on this project's 2-core
CPU; its only difference from the pre-aligned run is the crops (`align-dataset` and `eval-lfw` share
`FaceAligner`, but the pipeline picks the main face and falls back to a centre crop differently). This
script measures that difference on a seeded sample of LFW photos: crops made by `LFWEmbedFn` from the
raw photos vs the `align-dataset` crops, pixel differences, and the cosine between their embeddings
(test-time flip, the shipped model). A cosine of 1 on every photo means identical pair similarities.

  python bench/raw_vs_aligned.py --n 300 [--aligned data/aligned/lfw] [--data $FACE_DATA/lfw] [--json]
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
from face_research.core import read_image, face_data
from face_research.data import lfw_images, lfw_image_root
from face_research.pipeline import FacePipeline, LFWEmbedFn


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=300); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--aligned', default='data/aligned/lfw'); p.add_argument('--data', default=None)
    p.add_argument('--json', action='store_true')
    a = p.parse_args(argv)
    root = lfw_image_root(a.data or face_data('lfw'))
    imgs = lfw_images(root)
    paths = imgs.path.to_numpy()[np.random.default_rng(a.seed).choice(len(imgs), a.n, replace=False)]
    pl = FacePipeline.load()
    raw, pre = LFWEmbedFn(pl, None, 'shipped', flip=True), LFWEmbedFn(pl, a.aligned, 'shipped', flip=True)
    t = time.perf_counter()
    crops_raw = raw.crops(list(paths))             # what each path embeds: the same code as eval-lfw's
    crops_pre = [read_image(Path(a.aligned)/Path(q).parent.name/Path(q).name) if (Path(a.aligned)/Path(q).parent.name/Path(q).name).exists()
                 else None for q in paths]
    e_raw, e_pre = raw.embed_crops(crops_raw), pre(list(paths))
    cos = (e_raw * e_pre).sum(1)
    diff = np.array([np.abs(c.astype(int) - d.astype(int)).mean() if d is not None else np.nan for c, d in zip(crops_raw, crops_pre)])
    out = dict(n=a.n, seconds=round(time.perf_counter() - t, 1), fallbacks_raw=len(raw.fallbacks), missing_aligned=int(sum(d is None for d in crops_pre)),
               identical_crops=int(np.sum(diff == 0)), mean_abs_pixel_diff=float(np.nanmean(diff)), max_abs_pixel_diff=float(np.nanmax(diff)),
               cos_min=float(cos.min()), cos_mean=float(cos.mean()), share_cos_above_0999=float((cos > 0.999).mean()),
               worst=[str(Path(paths[i]).name) for i in np.argsort(cos)[:5]])
    if a.json: print(json.dumps(out))
    else:
        for k, v in out.items(): print(f"{k:24s} {v}")
    return 0


if __name__ == '__main__': sys.exit(main())
