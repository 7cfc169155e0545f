"""Scores shared by the evals that match produced work items against expected ones (guidance, transitions).

Why one definition: the guidance and transitions evals report the same three figures, and a care team reads them
the same way, so they must mean the same thing in both: recall is matched over expected, precision is matched over
produced (an item nobody expected is noise on a worklist), due-date accuracy is over matched items only (a missed
item is already counted against recall). An empty denominator scores 1.0: nothing was asked or nothing was shown.
"""

from __future__ import annotations

from dataclasses import dataclass


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


@dataclass
class ItemScores:
    expected: int = 0
    produced: int = 0
    matched: int = 0
    due_correct: int = 0

    @property
    def recall(self) -> float:
        return ratio(self.matched, self.expected)

    @property
    def precision(self) -> float:
        return ratio(self.matched, self.produced)

    @property
    def due_accuracy(self) -> float:
        return ratio(self.due_correct, self.matched)
