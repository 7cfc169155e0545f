"""Train the shipped PHI tagger on every shared PhysioNet note and save it as package data.

    .venv/bin/python evals/phi/train_tagger.py [--out assistant/redaction/data/phi_tagger.npz]

The notes are read from ../shared/data/deid_phi/ (GPL, never copied here); what is saved is a table of
feature weights whose only words are public known-safe words (see ``assistant/redaction/lexicons.py``).
Its threshold is chosen on out-of-fold predictions over five patient folds of the same notes, as inside
each training split of ``caretrail eval phi --folds 5``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.redaction.evaluation import fit_tagger, load_physionet, patient_folds, prepare
from assistant.redaction.tagger import MODEL_PATH


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    notes = load_physionet()
    items = prepare(notes)
    model = fit_tagger(
        items, patient_folds(notes, 5), meta={"trained_on": f"PhysioNet deid 1.1, {len(notes)} shared notes"}
    )
    model.save(args.out)  # type: ignore[attr-defined]
    print(
        f"saved {args.out}: {len(model.features)} features, threshold {model.threshold}, "  # type: ignore
        f"digest {model.digest}"
    )  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
