"""Record questions: a patient question answered from the structured record (observations, medications, the
latest discharge's medication changes and pending results, conditions, encounters, claims, allergies), one cited
sentence per fact. Entry point: ``answer_record_question``."""

from assistant.record_answers.answer import RecordAnswer, answer_record_question
from assistant.record_answers.questions import RecordQuestion, classify

__all__ = ["RecordAnswer", "RecordQuestion", "answer_record_question", "classify"]
