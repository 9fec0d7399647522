"""The automatic checks' flags of a message, and how the DuckDB messages fact packs them.

On DuckDB the messages fact carries the flags as bits of one integer column,
``qa_bits`` (bit i = ``QA_FLAGS[i]``), not as one boolean column each: the fact
is copied once into DuckDB and every column costs there.  ``flag(m, name)`` reads
a flag either way, so the families and evidence do not care which they get.
"""

from __future__ import annotations

import ibis.expr.types as ir

QA_FLAGS = (
    "polite", "greeting", "closing", "forbidden", "offsite", "negative", "upset", "empathy",
    "policy_refusal", "brush_off", "chat_negative",
)
"""flag_messages' flags, in the order of their bits."""

QA_BITS = "qa_bits"


def flag(m: ir.Table, name: str) -> ir.BooleanValue:
    """The check ``name``'s flag of each row of m (the column qa_NAME, or its bit)."""
    column = f"qa_{name}"
    if column in m.columns:
        return m[column]
    bit = QA_FLAGS.index(name)
    return ((m[QA_BITS] >> bit) & 1) == 1


def has_flags(m: ir.Table) -> bool:
    return QA_BITS in m.columns or "qa_polite" in m.columns


def unpacked(m: ir.Table) -> ir.Table:
    """m with one boolean qa_NAME column per flag instead of qa_bits (evidence rows)."""
    if QA_BITS not in m.columns:
        return m
    return m.mutate(**{f"qa_{name}": flag(m, name) for name in QA_FLAGS}).drop(QA_BITS)
