"""Ship a finished `train-recognizer` run's final embedder as a model file (e.g. `models/recognizer.pth`).

The weights are copied unchanged (`weights_sha1` stays the run's); the metadata gains what a reader of the shipped
file needs and the run folder does not travel with it:
- `lfw`: the run's recorded LFW figures (`bench/record_run.py` record, its `lfw_final_flip`), with the protocol;
- `heldout`: the final weights' held-out accuracies (`bench/heldout_acc.py`, one line of its JSONL output);
- `trained_on`, `record`: where and how it was trained, and the record file;
- `teacher`: made relative to the repository when it lies inside it (the run stored an absolute path).
The threshold is not set here: calibrate the shipped file with
`face-research eval-lfw --model DEST --aligned data/aligned/lfw --flip --calibrate 0.01 --json`.

    .venv/bin/python bench/ship_model.py outputs/cpu_r34_ce_distill_w200_warm2 models/recognizer.pth \\
        --record bench/results/cpu_recipe_r34_ce_distill_w200_warm2_amx.json --heldout bench/results/heldout_acc_amx.jsonl
"""
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import torch
from face_research.core import weights_sha1, write_atomic

ap = argparse.ArgumentParser()
ap.add_argument('run', type=Path, help='finished train-recognizer output folder (holds recognizer.pth)')
ap.add_argument('dest', type=Path, help='model file to write')
ap.add_argument('--record', type=Path, required=True, help="the run's bench/record_run.py record (LFW figures)")
ap.add_argument('--heldout', type=Path, required=True, help='bench/heldout_acc.py JSONL holding a line for the run')
a = ap.parse_args()

src = a.run/'recognizer.pth'
ck = torch.load(src, map_location='cpu', weights_only=True)
rec = json.loads(a.record.read_text())
lf = rec['lfw_final_flip']
if not lf['model_id'].startswith('recognizer.pth:' + weights_sha1(src)):
    raise SystemExit(f"{a.record}: its LFW figures are of weights {lf['model_id']!r}, not {src}'s ({weights_sha1(src)})")
held = [json.loads(l) for l in a.heldout.read_text().splitlines() if l.strip()]
held = [h for h in held if Path(h['run']).resolve() == a.run.resolve()]
if not held: raise SystemExit(f"{a.heldout}: no line for {a.run}")
meta = ck['meta']
if meta.get('teacher') and Path(meta['teacher']).resolve().is_relative_to(ROOT):
    meta['teacher'] = str(Path(meta['teacher']).resolve().relative_to(ROOT))
meta.update(lfw=dict(protocol='View-2 10-fold, test-time flip, aligned crops (data/aligned/lfw)', accuracy=lf['lfw_accuracy'],
                     accuracy_std=lf['lfw_accuracy_std'], tpr_at_fpr=lf['tpr_at_fpr'], tar_at_far=lf['tar_at_far']),
            heldout={k: held[-1][k] for k in ('final_heldout_acc', 'final_knn_acc', 'centroid_acc', 'n_heldout')},
            trained_on=f"{rec['machine']}, {rec['date']}, {rec['command']}", record=str(a.record), checkpoint='final')
write_atomic(a.dest, lambda t: torch.save(ck, t))
assert weights_sha1(a.dest) == weights_sha1(src)
print(f"{a.dest}: weights {weights_sha1(a.dest)} from {src}; LFW {lf['lfw_accuracy']:.4f}, held-out {meta['heldout']['final_heldout_acc']:.3f}; "
      "threshold unset: calibrate with eval-lfw --calibrate 0.01")
