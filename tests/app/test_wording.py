"""Every wording key a template uses exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import kefu
from kefu.app.i18n import TEXT

TEMPLATES = Path(kefu.__file__).parent / "app" / "templates"


def test_every_template_key_has_zh_and_en() -> None:
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_.]+)'", path.read_text(encoding="utf-8")))
    # keys built from a prefix: role.<role>, and statuses and link kinds used as keys
    from kefu.app.models import LinkKind, Role, RunStatus

    used = {k for k in used if not k.endswith(".")} | {f"role.{r.value}" for r in Role}
    used |= {s.value for s in RunStatus} | {k.value for k in LinkKind}
    missing = sorted(k for k in used if k not in TEXT)
    assert missing == []
    assert all(zh and en for zh, en in TEXT.values())
