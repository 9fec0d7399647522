"""Automatic quality checks (智能质检) of chat messages.

Public API:
- ``flag_messages(texts, is_agent, lexicons=None, *, conversation=None) ->
  pyarrow.Table``: per-message flags for the metrics engine (polite, greeting,
  closing, forbidden, offsite, pii, negative, upset, empathy, policy_refusal,
  brush_off, chat_negative, sentiment);
- ``scan_text`` / ``scan_file``: the records of ``kefu qa scan``;
- ``load_lexicons(override_dir=None)``: the built-in phrase lists plus a shop's
  overrides;
- ``mask_pii(text)``: personal data replaced by ``*``;
- ``sentiment_scores(texts)``: the offline sentiment model, in [-1, 1];
- ``empathy_conversations(messages)``: the empathy rule for one conversation.
"""

from kefu.qa.api import (
    FLAG_COLUMNS,
    HitRecord,
    ScanRecord,
    empathy_conversations,
    flag_messages,
    scan_text,
    scan_texts,
)
from kefu.qa.checks import Hit, find_hits
from kefu.qa.io import read_text_column, scan_file
from kefu.qa.lexicons import AGENT_CHECKS, BUYER_CHECKS, Lexicons, load_lexicons
from kefu.qa.pii import find_pii, mask_pii
from kefu.qa.sentiment import sentiment_scores

__all__ = [
    "AGENT_CHECKS",
    "BUYER_CHECKS",
    "FLAG_COLUMNS",
    "Hit",
    "HitRecord",
    "ScanRecord",
    "Lexicons",
    "empathy_conversations",
    "find_hits",
    "find_pii",
    "flag_messages",
    "load_lexicons",
    "mask_pii",
    "read_text_column",
    "scan_file",
    "scan_text",
    "scan_texts",
    "sentiment_scores",
]
