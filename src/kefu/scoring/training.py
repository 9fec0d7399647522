"""Training plans (考核数据与培训匹配): the items that cost an agent the most points.

loss = applied weight × (100 − points): the points of the total lost on that item.
The next period follows each planned item up: improved when its points rose, or, at
equal points, when its value moved in the metric's better direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kefu.metrics.registry import BY_KEY, Direction

if TYPE_CHECKING:
    from kefu.scoring.results import AgentScore, ItemLine
    from kefu.scoring.scheme import Scheme

TOPICS_FILE = Path(__file__).parent / "training_topics.yaml"


@cache
def load_topics(path: Path = TOPICS_FILE) -> dict[str, list[str]]:
    """Metric key (or manual item name) → training topics, from the editable YAML."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topics: dict[str, Any] = data.get("topics", data)
    return {str(k): [str(t) for t in v] for k, v in topics.items()}


@dataclass
class PlanItem:
    key: str
    label: str
    points: float | None
    loss: float
    topics: list[str]


@dataclass
class FollowUp:
    key: str
    label: str
    prev_value: float | None
    value: float | None
    prev_points: float | None
    points: float | None
    improved: bool | None
    """None when either period has no points for the item."""


def plan_for(
    items: list[ItemLine], max_items: int = 3, topics: dict[str, list[str]] | None = None
) -> list[PlanItem]:
    """The items losing most points, largest loss first (ties by key), loss > 0 only."""
    topics = topics if topics is not None else load_topics()
    scored = [
        (li.eff_weight * (100.0 - li.points), li)
        for li in items
        if li.points is not None and li.eff_weight > 0
    ]
    scored = [(loss, li) for loss, li in scored if loss > 1e-9]
    scored.sort(key=lambda p: (-p[0], p[1].key))
    return [
        PlanItem(li.key, li.label, li.points, loss, topics.get(li.key, ["通用服务技能复训"]))
        for loss, li in scored[:max_items]
    ]


def follow_up(prev_agent: dict[str, Any], current: AgentScore, scheme: Scheme) -> list[FollowUp]:
    """How the items of last period's plan moved this period (环比)."""
    prev_items = {i["key"]: i for i in prev_agent.get("items", [])}
    now_items = {i.key: i for i in current.items}
    out: list[FollowUp] = []
    for p in prev_agent.get("training", []):
        key = p["key"]
        before, now = prev_items.get(key, {}), now_items.get(key)
        pv, v = before.get("value"), (now.value if now else None)
        pp, pn = before.get("points"), (now.points if now else None)
        improved: bool | None = None
        if pp is not None and pn is not None:
            if abs(pn - pp) > 1e-9:
                improved = pn > pp
            elif pv is not None and v is not None and key in BY_KEY:
                d = BY_KEY[key].direction
                improved = (
                    (v > pv) if d is Direction.UP else (v < pv) if d is Direction.DOWN else None
                )
            else:
                improved = False
        label = now.label if now else p.get("label", key)
        out.append(FollowUp(key, label, pv, v, pp, pn, improved))
    return out
