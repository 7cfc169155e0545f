"""The local translation backend by path: a real CTranslate2 model, made here.

No translation model ships offline, so the test makes a tiny one the way an ACO would make a real one: a MarianMT
model (random weights, a SentencePiece vocabulary trained on a few sentences) saved by transformers and converted by
CTranslate2's own converter, laid out as an OPUS-MT conversion (model.bin, source.spm, target.spm). Its output is
noise; what is tested is the real loading and decoding code, the draft's machine labelling and back-translation, and
that such a draft cannot be approved as a translation.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from assistant.outreach.engine import LanguageChoice, build
from assistant.outreach.facts import Fact
from assistant.outreach.translation import CTranslate2Translator, NoTranslator, get_translator
from assistant.records.store import PatientRow
from assistant.settings import REPO_ROOT

pytestmark = pytest.mark.slow

SENTENCES = [
    "Rosa, please bring your pill bottles to the visit.",
    "Hola Rosa, por favor traiga sus medicinas.",
    "Call 217-555-0199 to learn more.",
    "Take Furosemide 40 mg each morning until November 30, 2026.",
]


def _marian(folder: Path) -> None:
    import ctranslate2
    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    work = folder / "work"
    work.mkdir(parents=True)
    (work / "corpus.txt").write_text("\n".join(SENTENCES * 20), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(work / "corpus.txt"),
        model_prefix=str(work / "sp"),
        vocab_size=60,
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    pieces = spm.SentencePieceProcessor(model_file=str(work / "sp.model"))
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)  # Marian keeps <pad> last; CTranslate2's converter drops it
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    for name in ("source.spm", "target.spm"):
        shutil.copy(work / "sp.model", work / name)
    tokenizer = MarianTokenizer(str(work / "source.spm"), str(work / "target.spm"), str(work / "vocab.json"))
    tokenizer.save_pretrained(work)
    config = MarianConfig(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=256,
        pad_token_id=vocab["<pad>"],
        eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=0,
    )
    MarianMTModel(config).save_pretrained(work)
    for pair in ("en-es", "es-en"):
        ctranslate2.converters.TransformersConverter(str(work)).convert(str(folder / pair))
        for name in ("source.spm", "target.spm"):
            shutil.copy(work / "sp.model", folder / pair / name)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ct2-models")
    _marian(folder)
    return folder


def test_local_models_by_path_translate_both_ways(models: Path) -> None:
    translator = get_translator(None, REPO_ROOT / "prompts", models)
    assert isinstance(translator, CTranslate2Translator)
    there = translator.translate("Rosa, please bring your pill bottles.", "en", "es", None)
    back = translator.translate(there.text, "es", "en", None)
    assert isinstance(there.text, str) and there.model.endswith("/en-es") and back.model.endswith("/es-en")
    assert there.events == []  # nothing left the machine, so there was no guarded call to audit
    with pytest.raises(NoTranslator) as missing:
        translator.translate("Hello", "en", "it", None)
    assert "en-it" in str(missing.value) and "Italian" in str(missing.value) and "\n" not in str(missing.value)
    with pytest.raises(NoTranslator, match="is not a folder"):
        get_translator(None, REPO_ROOT / "prompts", models / "nothing-here")


def test_a_free_text_draft_through_the_local_model_is_machine_and_needs_review(models: Path) -> None:
    patient = PatientRow(
        id="pt-rosa", given=("Rosa",), family="Quintanilla", language="es", identifiers=("mbi|3RT5YU7IK90",)
    )
    facts = {
        "org_name": Fact("org_name", "Riverbend Care"),
        "first_name": Fact("first_name", "Rosa"),
        "callback_number": Fact("callback_number", "217-555-0199"),
        "message": Fact("message", "Rosa, please bring your 3 pill bottles to the visit."),
    }
    draft = build(
        patient=patient,
        purpose="free_text",
        channel="sms",
        choice=LanguageChoice("es"),
        facts=facts,
        templates_dir=REPO_ROOT / "prompts" / "outreach",
        translator=CTranslate2Translator(models),
        approvals={},
        conditions=[],
        as_of=date(2026, 11, 23),
    )
    assert draft["translation_source"] == "machine" and draft["review_status"] == "needs_review"
    assert draft["translation_model"].startswith("ctranslate2:") and isinstance(draft["back_translation"], str)
    assert draft["text"].startswith("Riverbend Care: Hola Rosa.") and "STOP" in draft["text"]
    assert draft["gates"]["round_trip"] is not None and draft["llm_events"] == []
    machine = draft["gates"]["translation"]
    assert machine["passes"] is False and "Rosa" in machine["dropped"]  # noise lost the name the message holds
    with pytest.raises(NoTranslator, match="es-en|en-it"):
        build(
            patient=patient,
            purpose="care_team_intro",
            channel="sms",
            choice=LanguageChoice("it"),
            facts={k: v for k, v in facts.items() if k != "message"},
            templates_dir=REPO_ROOT / "prompts" / "outreach",
            translator=CTranslate2Translator(models),
            approvals={},
            conditions=[],
            as_of=date(2026, 11, 23),
        )
