"""Weight averaging (stochastic weight averaging, Izmailov et al. 2018) of finished `train-recognizer` runs of one lineage.

Runs that warm-start from each other (`--init`), e.g. the ends of successive one-cycle restarts, lie in one basin; the
uniform mean of their final weights (EMA where kept; embedder and classifier head) is one model, not an ensemble.
Batch-norm running statistics of an average are not the average of the statistics, so they are recomputed afterwards
over the runs' training faces (same split and seed; no augmentation, no flip) with `torch.optim.swa_utils.update_bn`,
under the runs' autocast, in training mode as the statistics were first gathered.

The result is written as a run folder (config.json, `<stage>/checkpoint.pth` + `done.json`, `recognizer.pth`), so that
`face-research eval-lfw`, `bench/heldout_acc.py` and `bench/ship_model.py` read it as they read any run.

    .venv/bin/python bench/soup.py outputs/cpu_r34_ce_distill_w200_warm outputs/cpu_r34_ce_distill_w200_warm2 \\
        outputs/cpu_r34_ce_distill_w200_warm3_ls --out outputs/cpu_r34_ce_soup_warm123
"""
import argparse, json, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def average_state_dicts(sds:list)->dict:
    "Uniform mean of floating-point entries; other entries (e.g. BN's `num_batches_tracked`) from the first, all keys must match"
    # not torch.optim.swa_utils.AveragedModel: it averages live modules, these are checkpoints' state dicts, buffers included
    import torch
    keys = list(sds[0])
    for i, sd in enumerate(sds[1:], 1):
        if list(sd) != keys or any(sd[k].shape != sds[0][k].shape for k in keys):
            raise ValueError(f"state dict {i} does not match the first one (keys or shapes differ)")
    return {k: (torch.stack([sd[k].float() for sd in sds]).mean(0) if sds[0][k].is_floating_point() else sds[0][k].clone())
            for k in keys}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', type=Path, help='finished train-recognizer run folders (same data, split, seed, architecture)')
    p.add_argument('--out', type=Path, required=True, help='run folder to write')
    p.add_argument('--bs', type=int, default=128, help='batch size of the batch-norm pass')
    a = p.parse_args(argv)
    import torch
    from face_research.recognition import warm_start_weights, _stages, to_float_images, train_autocast_dtype
    from heldout_acc import run_learner
    from face_research.embedder import save_embedder
    from face_research.core import write_atomic
    t0 = time.time()
    cfgs = [json.loads((r/'config.json').read_text()) for r in a.runs]
    c = dict(cfgs[-1], out=str(a.out), soup=[str(r) for r in a.runs])
    sds = [warm_start_weights(r, c) for r in a.runs]     # checks every run has this data, split, seed and architecture
    sd = average_state_dicts(sds)                         # runs with and without a head differ in keys: refused there
    dls, learn, _ = run_learner(c, sd)                    # the same learner bench/heldout_acc.py validates
    model = learn.model
    imgs = dls.train.dataset.images
    loader = (to_float_images((imgs[i:i+a.bs],))[0] for i in range(0, len(imgs), a.bs))   # one pass
    bf16 = c['amp'] not in (False, 'off', 'no') and train_autocast_dtype('cpu') == torch.bfloat16   # as the runs trained
    ctx = torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16)
    with ctx: torch.optim.swa_utils.update_bn(loader, model)   # cumulative mean over one pass, training mode
    model.eval()
    sd_new = {k: v.detach().clone() for k, v in model.state_dict().items()}
    stage = a.out/_stages(c)[-1]['name']
    stage.mkdir(parents=True, exist_ok=True)
    info = dict(soup=[str(r) for r in a.runs], weights=[1 / len(a.runs)] * len(a.runs), bn='recomputed: torch.optim.swa_utils.update_bn, '
                f'{len(imgs)} training faces, batch {a.bs}, no augmentation', seconds=round(time.time() - t0, 1))
    write_atomic(stage/'checkpoint.pth', lambda t: torch.save(dict(model=sd_new, ema=None), t))
    (stage/'history.jsonl').write_text('')
    write_atomic(stage/'done.json', lambda t: Path(t).write_text(json.dumps(info, indent=1)))
    (a.out/'config.json').write_text(json.dumps(c, indent=1))
    meta = json.loads(json.dumps({k: v for k, v in torch.load(a.runs[-1]/'recognizer.pth', map_location='cpu', weights_only=True)['meta'].items()
                                  if k not in ('format', 'arch', 'arch_kwargs', 'metrics', 'threshold', 'threshold_fpr')}))
    meta.update(config=c, soup=info)
    save_embedder(a.out/'recognizer.pth', model.embedder, meta)
    print(json.dumps(dict(out=str(a.out), **info)))


if __name__ == '__main__':
    main()
