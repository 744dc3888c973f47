"""Head-only retraining on the frozen body of the shipped recognizer (issue 6, a negative result).

The shipped ResNet34-IR body is kept; its 512x7x7 feature maps of the CelebA training faces (and of
their mirror images) and of the LFW View-2 pair images are computed once; then only the head
(BN -> dropout -> linear -> BN, or a pooled variant) is retrained with ArcFace on the CelebA maps,
or fine-tuned from the shipped head. Cheap enough for this CPU (about 50 min of feature extraction,
then 5-15 min per head), where training the whole network is not.

    FACE_DATA=../shared/data .venv/bin/python bench/head_retrain.py features    # -> outputs/cache/body_feats/
    .venv/bin/python bench/head_retrain.py train fc_d04 fc_d07 ft_shipped         # LFW (no flip / flip), held-out acc
"""
import os, sys
from face_research.core import face_data
FEAT = os.environ.get('BODY_FEATS', 'outputs/cache/body_feats')

def features():
    import numpy as np, torch, time, sys
    Path(FEAT).mkdir(parents=True, exist_ok=True)
    from pathlib import Path
    from face_research.embedder import load_embedder
    from face_research.core import read_image
    from face_research.data import lfw_pairs, lfw_image_root, identity_folders
    torch.set_num_threads(2)
    model, meta = load_embedder('models/recognizer_r34.pth', 'cpu'); model.eval()
    root = face_data('lfw'); img_root = lfw_image_root(root)
    pairs = lfw_pairs(root/'pairs.txt', img_root)
    lfw = sorted(set(pairs.path1) | set(pairs.path2))
    crop = lambda p: Path('data/aligned/lfw')/Path(p).parent.name/Path(p).name
    celeba = identity_folders('data/aligned/celeba').path.tolist()     # the order `train` splits in (debug/ skipped)
    jobs = [('lfw', [crop(p) for p in lfw], False), ('celeba', celeba, False), ('celeba_flip', celeba, True), ('lfw_flip', [crop(p) for p in lfw], True)]
    np.save(f'{FEAT}/lfw_paths.npy', np.array([str(Path(p).relative_to(img_root)) for p in lfw]))
    np.save(f'{FEAT}/celeba_ids.npy', np.array([Path(p).parent.name for p in celeba]))
    t = time.time()
    for name, paths, flip in jobs:
        out = np.lib.format.open_memmap(f'{FEAT}/{name}.part.npy', 'w+', np.float16, (len(paths), 512, 7, 7))
        for i in range(0, len(paths), 64):
            ims = []
            for p in paths[i:i+64]:
                im = read_image(p) if Path(p).exists() else None
                if im is None or im.shape != (112, 112, 3): print('bad', p, file=sys.stderr); im = np.zeros((112,112,3), np.uint8)
                ims.append(im)
            x = torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).float().div_(255).contiguous(memory_format=torch.channels_last)
            if flip: x = x.flip(3)
            with torch.no_grad(): out[i:i+64] = model.body((x - model.mean) / model.std).half().numpy()
            if i % 1280 == 0: print(name, i, len(paths), f'{time.time()-t:.0f}s', flush=True)
        out.flush(); del out
        Path(f'{FEAT}/{name}.part.npy').rename(f'{FEAT}/{name}.npy'); print('done', name, f'{time.time()-t:.0f}s', flush=True)

def train():
    import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time, copy, sys, json
    from pathlib import Path
    from collections import OrderedDict
    from face_research.embedder import load_embedder
    from face_research.data import lfw_pairs, lfw_image_root, identity_folders
    from face_research.recognition import split_faces
    from face_research.metrics import lfw_10fold, tar_at_far
    from face_research.losses import MarginHead, ClassifierLoss
    torch.set_num_threads(2); torch.manual_seed(0)
    model, meta = load_embedder('models/recognizer_r34.pth', 'cpu')
    root = face_data('lfw'); img_root = lfw_image_root(root); pairs = lfw_pairs(root/'pairs.txt', img_root)
    lp = list(np.load(f'{FEAT}/lfw_paths.npy')); row = {p: i for i, p in enumerate(lp)}
    i1 = [row[str(Path(p).relative_to(img_root))] for p in pairs.path1]; i2 = [row[str(Path(p).relative_to(img_root))] for p in pairs.path2]
    same = pairs.same.to_numpy(bool); folds = pairs.fold.to_numpy()
    L = torch.from_numpy(np.load(f'{FEAT}/lfw.npy', mmap_mode='r')[:])
    Lf = torch.from_numpy(np.load(f'{FEAT}/lfw_flip.npy', mmap_mode='r')[:]) if Path(f'{FEAT}/lfw_flip.npy').exists() else None
    C = torch.from_numpy(np.load(f'{FEAT}/celeba.npy', mmap_mode='r')[:]); Cf = torch.from_numpy(np.load(f'{FEAT}/celeba_flip.npy', mmap_mode='r')[:])
    df = split_faces(identity_folders('data/aligned/celeba'), 0.1, 'images', seed=0)
    ids = np.load(f'{FEAT}/celeba_ids.npy'); assert list(df.identity) == list(ids), 'order differs'
    y = torch.tensor(df.label.to_numpy()); tr = torch.tensor(~df.is_valid.to_numpy()); va = ~tr
    @torch.no_grad()
    def embed(head, X, bs=512): head.eval(); return torch.cat([F.normalize(head(X[i:i+bs].float()), dim=1) for i in range(0, len(X), bs)])
    def lfw(head, flip):
        E = embed(head, L)
        if flip and Lf is not None: E = F.normalize(E + embed(head, Lf), dim=1)
        s = (E[i1] * E[i2]).sum(1).numpy(); v = lfw_10fold(s, same, folds); return v['accuracy'], tar_at_far(s, same)[0.01]
    def report(name, head, mh=None):
        a0, t0 = lfw(head, False); a1, t1 = lfw(head, True) if Lf is not None else (float('nan'), float('nan'))
        acc = float('nan')
        if mh is not None:
            with torch.no_grad(): acc = (mh.cosine(embed(head, C[va])).argmax(1) == y[va]).float().mean().item()
        print(f"{name:40s} LFW {a0:.4f} (flip {a1:.4f})  TAR@1e-2 {t0:.3f} ({t1:.3f})  held-out acc {acc:.3f}", flush=True)
        return dict(name=name, lfw=a0, lfw_flip=a1, tar=t0, tar_flip=t1, held_out=acc)
    class GAP(nn.Module):
        def __init__(s, bn): super().__init__(); s.bn = bn
        def forward(s, x): return s.bn(x).mean((2, 3))
    def make_head(kind, drop):
        if kind == 'fc': return nn.Sequential(OrderedDict(bn_map=nn.BatchNorm2d(512), drop=nn.Dropout(drop), flat=nn.Flatten(), fc=nn.Linear(25088, 512), bn_emb=nn.BatchNorm1d(512)))
        if kind == 'gap': return nn.Sequential(nn.BatchNorm2d(512), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(drop), nn.Linear(512, 512), nn.BatchNorm1d(512))
    def fit_head(name, head, epochs=30, lr=0.05, wd=5e-4, s=30., m=0.5, bs=256, ema=0.999, chan_drop=0.):
        mh = MarginHead(512, int(df.attrs['n_classes']), s, m); loss = ClassifierLoss(mh)
        params = list(head.parameters()) + list(mh.parameters())
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd, nesterov=True)
        Xtr, Xtrf, ytr = C[tr], Cf[tr], y[tr]; n = len(ytr); steps = epochs * (n // bs)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.25)
        avg = copy.deepcopy(head); k = 0; t = time.time()
        for ep in range(epochs):
            head.train(); perm = torch.randperm(n)
            for j in range(n // bs):
                b = perm[j*bs:(j+1)*bs]; fl = torch.rand(bs) < 0.5
                x = torch.where(fl.view(-1, 1, 1, 1), Xtrf[b], Xtr[b]).float()
                if chan_drop: x = F.dropout2d(x, chan_drop)
                mh.m = m * min(1., (k / steps) / 0.3)   # margin warm-up over the first 30%
                l = loss(head(x), ytr[b]); opt.zero_grad(); l.backward(); opt.step(); sched.step(); k += 1
                with torch.no_grad():
                    d = min(ema, (1 + k) / (10 + k))
                    for p, q in zip(head.parameters(), avg.parameters()): q.lerp_(p, 1 - d)
                    for p, q in zip(head.buffers(), avg.buffers()): q.copy_(p)
            if ep % 10 == 9 or ep == epochs - 1: print(f"  {name} ep {ep+1} loss {l.item():.3f} {time.time()-t:.0f}s", flush=True)
        return report(name, avg, mh)
    res = []
    res.append(report('shipped head', model.head))
    res.append(report('GAP of bn_map (no training)', GAP(model.head.bn_map)))
    res.append(report('flattened bn_map (no training)', nn.Sequential(model.head.bn_map, nn.Flatten())))
    exps = sys.argv[2:] or ['fc_d04', 'fc_d07', 'gap_d02', 'ft_shipped']
    for e in exps:
        torch.manual_seed(0)
        if e == 'fc_d04': res.append(fit_head(e, make_head('fc', 0.4)))
        if e == 'fc_d07': res.append(fit_head(e, make_head('fc', 0.7), wd=1e-3))
        if e == 'fc_d07_cd': res.append(fit_head(e, make_head('fc', 0.7), wd=1e-3, chan_drop=0.2))
        if e == 'gap_d02': res.append(fit_head(e, make_head('gap', 0.2), epochs=40))
        if e == 'ft_shipped': res.append(fit_head(e, copy.deepcopy(model.head), lr=0.005, epochs=20))
    json.dump(res, open(f'{FEAT}/heads_' + '_'.join(exps) + '.json', 'w'), indent=1)

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in ('features', 'train'): sys.exit(__doc__)
    features() if sys.argv[1] == 'features' else train()
