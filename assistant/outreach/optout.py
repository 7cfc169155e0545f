"""Opt-out replies: recognising a revocation of consent, and the register every later draft reads.

The FCC's 2024 consent-revocation order under the TCPA (effective April 11, 2025; knowledge/sms-outreach-tcpa.md,
LEAD_FACTS.md section 7) lets a person revoke consent in any reasonable manner: senders must honour "stop, quit,
end, revoke, opt out, cancel and unsubscribe", and other clear replies, including replies in other languages such
as "No más". We recognise those seven, common English equivalents, and equivalents in each template language.

Why we err towards recognising: a missed revocation is a TCPA violation ($500 per message, knowledge file), a false
one costs a phone call. A reply that is one of the words (punctuation and "please" aside) is an opt-out; so is a
longer reply that contains one as a whole word or phrase, and the result says which it was so a reviewer can look.
The opt-out is recorded at once and every later text-message draft for the patient is refused; the order allows one
confirmation text, which the gateway (not Caretrail) sends.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant.outreach.tables import OutreachOptOutTable

# The seven words the order names (secondary sources in the knowledge file).
FCC_KEYWORDS = ("stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe")
# Reasonable equivalents: English, then each template language (the word a reply would start with).
EQUIVALENTS = (
    "stopall", "stop all", "optout", "opt-out", "remove me", "take me off", "do not text", "don't text", "dont text",
    "no more texts", "no more messages", "leave me alone", "never text", "not interested",
    "no más", "no mas", "alto", "basta", "cancelar", "detener", "parar", "pare", "baja",  # es / pt
    "停止", "取消", "退订", "退訂", "不要再发", "不要再發", "配信停止", "中止",  # zh / ja
    "dừng", "ngừng", "hủy", "huỷ",  # vi
    "hinto", "tigil", "itigil", "ayoko na",  # tl
    "중지", "그만", "수신거부", "수신 거부",  # ko
    "стоп", "хватит", "отписаться", "отписка", "не присылайте",  # ru
    "توقف", "إيقاف", "ايقاف", "إلغاء", "الغاء",  # ar
    "rete", "kanpe", "sispann",  # ht
    "arrêt", "arret", "arrêter", "arreter", "désabonner", "desabonner", "désinscrire",  # fr
    "chega", "sair", "descadastrar",  # pt
    "koniec", "rezygnuję", "rezygnuje", "anuluj", "wypisz",  # pl
    "बंद", "रोकें", "रोको", "बंद करो",  # hi
    "stopp", "abmelden", "beenden", "aufhören", "aufhoren",  # de
)  # fmt: skip
KEYWORDS = FCC_KEYWORDS + EQUIVALENTS
_FILLER = re.compile(r"\b(please|pls|plz|now|thanks|thank you|por favor|merci|bitte|proszę)\b", re.IGNORECASE)
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Revocation:
    keyword: str
    whole_reply: bool  # the reply was the keyword itself (a longer reply that contains one: look at it)
    fcc_keyword: bool  # one of the seven the order names


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return _PUNCT.sub(" ", text).strip()


def _has(text: str, word: str) -> bool:
    if all(ord(ch) < 0x2E80 for ch in word):  # scripts with spaces between words: whole words only
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None
    return word in text  # CJK: no spaces between words


def recognize(reply: str) -> Revocation | None:
    """The revocation in a patient's reply, or None when the reply revokes nothing we can recognise."""
    text = _normal(reply)
    bare = _normal(_FILLER.sub(" ", text))
    for word in sorted(KEYWORDS, key=len, reverse=True):
        key = _normal(word)
        if bare == key:
            return Revocation(word, True, word in FCC_KEYWORDS)
    for word in sorted(KEYWORDS, key=len, reverse=True):
        if _has(text, _normal(word)):
            return Revocation(word, False, word in FCC_KEYWORDS)
    return None


def record(
    engine: Engine,
    patient_id: str,
    channel: str,
    revocation: Revocation,
    reply: str,
    recorded_by: str,
    audit_id: str,
    received_at: datetime | None = None,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            OutreachOptOutTable(
                patient_id=patient_id,
                channel=channel,
                keyword=revocation.keyword,
                reply=reply,
                received_at=received_at or datetime.now(UTC),
                recorded_by=recorded_by,
                audit_id=audit_id,
            )
        )


def opted_out(engine: Engine, patient_id: str, channel: str) -> dict[str, str] | None:
    """The opt-out that stops ``channel`` for this patient (the earliest one), or None."""
    with Session(engine) as session:
        row = session.scalars(
            select(OutreachOptOutTable)
            .where(OutreachOptOutTable.patient_id == patient_id, OutreachOptOutTable.channel == channel)
            .order_by(OutreachOptOutTable.received_at, OutreachOptOutTable.id)
        ).first()
    if row is None:
        return None
    return {
        "channel": row.channel,
        "keyword": row.keyword,
        "received_at": row.received_at.isoformat(),
        "audit_id": row.audit_id,
    }
