"""Language understanding for the assistant: what a customer wants (``classify``) and the
facts in what they wrote (``extract_entities``), Chinese first, English second."""

from kefu.bot.nlu.classify import Classification, classify, classify_many
from kefu.bot.nlu.dates import TimeMention
from kefu.bot.nlu.entities import Amount, Entities, extract_entities
from kefu.bot.nlu.intents import INTENTS
from kefu.bot.nlu.normalise import detect_language, normalise

__all__ = [
    "INTENTS",
    "Amount",
    "Classification",
    "Entities",
    "TimeMention",
    "classify",
    "classify_many",
    "detect_language",
    "extract_entities",
    "normalise",
]
