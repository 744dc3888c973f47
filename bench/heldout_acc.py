"""Held-out classification accuracy of a finished `train-recognizer` run's final weights, with the classifier head it kept.

The training history reports held-out accuracy (plain cosine or linear logits, as `HeadAccuracy`) for the stages that
train a classifier. A two-stage run's triplet stage trains none, so its history's last held-out figure is the ArcFace
stage's. This script measures the *final* model: the embedder after triplet fine-tuning, read by the ArcFace stage's
head it still carries (EMA weights where the run kept them, as the shipped model). On a one-stage run it repeats the
last epoch's figure, which checks it.

It also reports a classifier every embedder has, a triplet-only one included: nearest class mean. Each held-out face
goes to the identity whose training faces' mean embedding (unit-normalised, no flip, as validation) is closest in
cosine. That is `centroid_acc`; the triplet rows of the comparison table have no head, and this is their held-out
classification accuracy.

    .venv/bin/python bench/heldout_acc.py outputs/cpu_r34_two_stage_distill_w50 outputs/cpu_r18_distill_w50
"""
import argparse, json, sys, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_learner(c:dict, sd:dict)->tuple:
    "(dls, learner, head loss) of a run with settings `c` on its own split and CPU, holding weights `sd` (embedder and head)"
    from face_research.recognition import face_dls, recognition_learner
    # the head the run trained: linear for CE, margin head otherwise, none for triplet
    head_loss = 'triplet' if not any(k.startswith('head.') for k in sd) else 'ce' if c['loss'] == 'ce' else 'arcface'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        dls = face_dls(c['data'], c['bs'], c['val_pct'], c['split'], 'random', c['k'], c['size'], c['cache_dir'], 'cpu', c['seed'])
        learn = recognition_learner(dls, head_loss, arch=c['arch'], stem=c['stem'], emb_size=c['emb_size'], dropout=c['dropout'],
                                    s=c['s'], m=c['m'], amp=c['amp'], aug=False, seed=c['seed'])
    learn.model.load_state_dict(sd)                      # strict: embedder and head must both fit
    return dls, learn, head_loss


def heldout(run:Path)->dict:
    "Held-out head, nearest-class-mean and kNN accuracy of `run`'s final weights, and the history's last figures beside them"
    import torch
    from face_research.recognition import warm_start_weights, _stages
    from face_research.embedder import embed_images
    c = json.loads((run/'config.json').read_text())
    sd = warm_start_weights(run, c)                      # final weights of the last stage (EMA average when kept), head included
    dls, learn, head_loss = run_learner(c, sd)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with learn.no_bar(), learn.no_logging(): vals = learn.validate()
    names = [m.name for m in learn.metrics]
    got = dict(zip(names, [float(v) for v in vals[1:]]))
    tr, va = dls.train.dataset, dls.valid.dataset
    e_tr, e_va = (torch.from_numpy(embed_images(learn.model.embedder, d.images)) for d in (tr, va))
    means = torch.zeros(dls.n_classes, e_tr.shape[1]).index_add_(0, tr.labels, e_tr)
    pred = (e_va @ torch.nn.functional.normalize(means, dim=1).T).argmax(1)
    known = va.labels < dls.n_classes
    centroid = float((pred == va.labels)[known].float().mean())
    hist = []
    for st in _stages(c):
        f = run/st['name']/'history.jsonl'
        hist += [dict(json.loads(l), stage=st['name']) for l in f.read_text().splitlines()] if f.exists() else []
    acc_key = 'accuracy' if head_loss == 'ce' else 'cos_acc'
    last_head = [h for h in hist if h.get(acc_key) is not None]
    return dict(run=str(run), loss=c['loss'], final_heldout_acc=got.get(acc_key), final_knn_acc=got.get('knn_acc'), centroid_acc=centroid,
                history_last_heldout_acc=last_head[-1][acc_key] if last_head else None,
                history_last_heldout_stage=last_head[-1]['stage'] if last_head else None,
                history_last_knn_acc=hist[-1].get('knn_acc') if hist else None, n_heldout=len(dls.valid.dataset))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('runs', nargs='+', help='finished train-recognizer run folders')
    a = p.parse_args(argv)
    for r in a.runs: print(json.dumps(heldout(Path(r))))


if __name__ == '__main__':
    main()
