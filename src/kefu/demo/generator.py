"""Vectorised generation of the demo shop (see kefu.demo).

Everything is built as numpy arrays from one seeded ``numpy.random.Generator``:
conversations → buyer turns → messages, then orders, ratings, cases and sessions
derived from the conversations. Text columns are dictionary-encoded (an index
into a small array of strings), so 10 million messages cost a few int arrays and
no per-row Python work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.demo import templates as tpl

SENDERS = ("buyer", "agent", "bot", "system")
BUYER, AGENT, BOT, SYSTEM = 0, 1, 2, 3
PRESALE, AFTERSALE = 0, 1
DAY = 86_400
HOUR = 3_600
TABLE_NAMES = ("agents", "messages", "orders", "ratings", "cases", "sessions", "shifts")
FILE_FORMATS = ("csv", "parquet")

# Relative chat volume per local hour: quiet nights, peaks 10-12 and 20-23.
HOUR_WEIGHTS = np.array(
    [
        0.9,
        0.5,
        0.25,
        0.12,
        0.1,
        0.15,
        0.3,
        0.8,
        1.8,
        3.5,
        5.6,
        5.9,
        4.2,
        4.0,
        4.5,
        4.6,
        4.4,
        3.8,
        3.4,
        4.3,
        5.9,
        6.3,
        6.0,
        4.8,
    ],
)

# Expected messages per base conversation (measured on large runs) and share of
# extra conversations (transfers, repeat contacts); used to size the shop.
MESSAGES_PER_CONVERSATION = 11.3
CHILD_SHARE = 0.18


@dataclass(frozen=True)
class DemoConfig:
    """What to generate; ``messages`` is approximate (about ±3 %)."""

    messages: int = 60_000
    agents: int = 24
    seed: int = 7
    start: dt.date = dt.date(2024, 6, 1)
    days: int = 30
    file_format: str = "csv"

    def __post_init__(self) -> None:
        if self.messages < 1:
            raise ValueError("messages must be at least 1")
        if self.agents < 1:
            raise ValueError("agents must be at least 1")
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.file_format not in FILE_FORMATS:
            raise ValueError(f"file_format must be csv or parquet, not {self.file_format!r}")


@dataclass
class DemoShop:
    """The generated canonical tables (pyarrow, text columns dictionary-encoded)."""

    agents: pa.Table
    messages: pa.Table
    orders: pa.Table
    ratings: pa.Table
    cases: pa.Table
    sessions: pa.Table
    conversations: int
    config: DemoConfig
    shifts: pa.Table | None = None

    def tables(self) -> dict[str, pa.Table]:
        return {name: getattr(self, name) for name in TABLE_NAMES}

    def summary(self) -> str:
        shops = len(set(self.agents.column("shop_id").to_pylist()))
        paid = self.orders.num_rows - self.orders.column("paid_at").null_count
        first = self.config.start
        last = first + dt.timedelta(days=self.config.days - 1)
        return (
            f"{self.agents.num_rows} agents in {shops} shop{'s' if shops > 1 else ''}, "
            f"{self.messages.num_rows:,} messages in ~{self.conversations:,} conversations, "
            f"{self.orders.num_rows:,} orders ({paid:,} paid), {self.ratings.num_rows:,} ratings, "
            f"{self.cases.num_rows:,} cases, {self.sessions.num_rows:,} sessions, "
            f"{first.isoformat()}..{last.isoformat()}"
        )


class _Vocab:
    """All message strings in one array; a group is a contiguous slice of it."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.groups: dict[str, tuple[int, int]] = {}

    def add(self, name: str, strings: tuple[str, ...] | list[str]) -> None:
        self.groups[name] = (len(self.items), len(strings))
        self.items.extend(strings)

    def pick(self, name: str, u: np.ndarray) -> np.ndarray:
        """Index of a template of ``name`` chosen by uniforms ``u`` in [0, 1)."""
        offset, size = self.groups[name]
        return offset + np.minimum((u * size).astype(np.int64), size - 1)

    def array(self) -> pa.Array:
        return pa.array(self.items, pa.string())


@dataclass
class _Agents:
    ids: list[str]
    names: list[str]
    shop: np.ndarray  # shop index
    team: list[str]
    role: list[str]
    load: np.ndarray  # relative chat volume; 0 = inactive (new hire)
    resp_med: np.ndarray  # median response latency, s
    resp_sigma: np.ndarray
    unanswered: np.ndarray  # chance that a turn ends unanswered
    bad: np.ndarray  # chance of a problematic line
    empathy: np.ndarray
    close: np.ndarray
    polite: np.ndarray  # chance a line is courteous rather than curt
    skill: np.ndarray  # chance a presale conversation converts
    quality: np.ndarray  # -1..1, shifts rating scores


@dataclass
class _Convs:
    start: np.ndarray  # int64 local seconds since 1970 (naive wall clock)
    shop: np.ndarray
    agent: np.ndarray
    buyer: np.ndarray
    kind: np.ndarray  # PRESALE / AFTERSALE
    topic: np.ndarray  # index into the kind's topics
    upset: np.ndarray
    bot_greet: np.ndarray
    transfer_in: np.ndarray  # continues a conversation transferred from another agent
    transfer_out: np.ndarray  # ends with a transfer to another agent

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class _Chats:
    time: np.ndarray
    conv: np.ndarray
    sender: np.ndarray
    auto: np.ndarray
    content: np.ndarray
    first_buyer: np.ndarray  # per conversation
    end: np.ndarray  # per conversation: last message
    last_unanswered: np.ndarray  # per conversation


@dataclass
class _Turns:
    """Buyer turns (a buyer's lines and the answers to them), conversation by conversation."""

    count: np.ndarray  # per conversation: number of turns
    first: np.ndarray  # per conversation: its first turn
    conv: np.ndarray  # per turn from here on
    is_first: np.ndarray
    is_last: np.ndarray
    buyer_lines: np.ndarray
    mid: np.ndarray  # a bot card or auto-reply follows the first buyer line
    mid_auto: np.ndarray  # ... and it is an auto-reply, not a bot card
    answered: np.ndarray
    agent_lines: np.ndarray  # 0 when unanswered
    upset: np.ndarray


@dataclass
class _Lines:
    """The message lines of the turns, turn by turn."""

    per_turn: np.ndarray  # per turn: number of lines
    turn_first: np.ndarray  # per turn: its first line
    turn: np.ndarray  # per line from here on
    conv: np.ndarray
    rank: np.ndarray  # rank among the turn's buyer and agent lines (the mid line skipped)
    buyer_lines: np.ndarray  # of the line's turn
    is_mid: np.ndarray  # the bot card or auto-reply
    auto: np.ndarray  # the auto-reply
    is_buyer: np.ndarray
    is_agent: np.ndarray
    first_agent: np.ndarray  # the agent's first answer of the turn


@dataclass
class _OrderRows:
    """Orders of one origin, before all are merged and sorted by creation."""

    created: np.ndarray
    buyer: np.ndarray
    shop: np.ndarray
    paid: np.ndarray


SHOPS = ("旗舰店", "专卖店")


def _epoch_s(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY


def _make_agents(rng: np.random.Generator, n: int) -> _Agents:
    n2 = max(3, round(n * 0.25)) if n >= 8 else 0
    n1 = n - n2
    shop = np.repeat(np.arange(2), [n1, n2])
    team: list[str] = []
    role: list[str] = []
    load = np.exp(rng.normal(0.0, 0.35, n))
    for s, size, teams in (
        (0, n1, ("售前一组", "售前二组", "售后组")),
        (1, n2, ("售前三组", "售后二组")),
    ):
        if size == 0:
            continue
        n_after = max(1, round(size * 0.3)) if size >= 2 else 0
        n_pre = size - n_after
        presale_teams = teams[:-1]
        k = len(presale_teams) if n_pre >= 4 else 1
        sizes = [n_pre // k + (1 if i < n_pre % k else 0) for i in range(k)]
        for t, m in zip(presale_teams, sizes, strict=False):
            for i in range(m):
                team.append(t)
                # the last member of a large presale team also handles after-sales
                role.append("both" if m >= 4 and i == m - 1 else "presale")
        team.extend([teams[-1]] * n_after)
        role.extend(["aftersale"] * n_after)
        if s == 0 and n >= 10:
            # a new hire with no chats yet: every agent appears in the output anyway
            load[n1 - n_after - 1] = 0.0
    names = [
        tpl.AGENT_NAMES[i % len(tpl.AGENT_NAMES)] + ("" if i < len(tpl.AGENT_NAMES) else str(i))
        for i in range(n)
    ]
    ids = [f"{SHOPS[shop[i]]}:{names[i]}" for i in range(n)]
    bad = rng.uniform(0.001, 0.012, n)
    problem = rng.permutation(n)[: max(1, n // 10)]  # a few agents with real problems
    bad[problem] = 0.05
    polite = rng.uniform(0.8, 1.0, n)
    polite[problem] = 0.55
    quality = rng.uniform(-1.0, 1.0, n)
    quality[problem] = np.maximum(quality[problem] - 0.8, -1.0)  # and buyers notice
    return _Agents(
        ids=ids,
        names=names,
        shop=shop,
        team=team,
        role=role,
        load=load,
        resp_med=np.exp(rng.uniform(np.log(6), np.log(50), n)),
        resp_sigma=rng.uniform(0.8, 1.3, n),
        unanswered=rng.uniform(0.005, 0.06, n),
        bad=bad,
        empathy=rng.uniform(0.2, 0.9, n),
        close=rng.uniform(0.3, 0.8, n),
        polite=polite,
        skill=rng.uniform(0.2, 0.5, n),
        quality=quality,
    )


def _eligible(ag: _Agents, shop: int, kind: int) -> tuple[np.ndarray, np.ndarray]:
    """Active agents of ``shop`` that take ``kind`` chats, with routing probabilities."""
    want = ("presale", "both") if kind == PRESALE else ("aftersale", "both")
    in_shop = ag.shop == shop
    takes = np.array([r in want for r in ag.role]) & in_shop
    for mask in (takes & (ag.load > 0), in_shop & (ag.load > 0), in_shop):
        idx = np.flatnonzero(mask)  # tiny shops fall back to anyone of the shop
        if len(idx):
            break
    w = ag.load[idx] if ag.load[idx].sum() > 0 else np.ones(len(idx))
    return idx, w / w.sum()


def _route(
    rng: np.random.Generator,
    ag: _Agents,
    shop: np.ndarray,
    kind: np.ndarray,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """Pick an agent per conversation; ``avoid`` (a transfer's source) is skipped."""
    agent = np.zeros(len(shop), np.int64)
    for s in range(2):
        for k in (PRESALE, AFTERSALE):
            rows = np.flatnonzero((shop == s) & (kind == k))
            if len(rows) == 0:
                continue
            idx, p = _eligible(ag, s, k)
            pick = rng.choice(len(idx), size=len(rows), p=p)
            if avoid is not None and len(idx) > 1:
                same = idx[pick] == avoid[rows]
                pick = np.where(same, (pick + 1) % len(idx), pick)
            agent[rows] = idx[pick]
    return agent


def _vocab(ag: _Agents) -> _Vocab:
    v = _Vocab()
    for k, topics in ((PRESALE, tpl.PRESALE_TOPICS), (AFTERSALE, tpl.AFTERSALE_TOPICS)):
        for t, (openers, answers) in enumerate(topics):
            v.add(f"open{k}.{t}", openers)
            v.add(f"answer{k}.{t}", answers)
    v.add("follow", tpl.BUYER_FOLLOW)
    v.add("thanks", tpl.BUYER_THANKS)
    v.add("upset", tpl.BUYER_UPSET)
    # fixed, made-up mobile numbers (1xx + 8 digits) for the PII check to find
    phones = [f"1{(38, 39, 58, 86, 77, 35)[i % 6]}{(i * 7919 + 13) % 10**8:08d}" for i in range(24)]
    v.add("phone", [f.format(p=p) for p in phones for f in tpl.BUYER_PHONE_FMT])
    v.add("empty", tpl.BUYER_EMPTY)
    v.add("transfer_open", tpl.TRANSFER_OPENERS)
    v.add("greet", [g for g in tpl.AGENT_GREET if "{n}" not in g])
    v.add("greet_named", [tpl.AGENT_GREET[-1].format(n=n) for n in ag.names])
    v.add("close", tpl.AGENT_CLOSE)
    v.add("empathy", tpl.AGENT_EMPATHY)
    v.add("plain", tpl.AGENT_PLAIN)
    v.add("curt", tpl.AGENT_CURT)
    v.add("forbidden", tpl.AGENT_FORBIDDEN)
    v.add("offsite", tpl.AGENT_OFFSITE)
    v.add("negative", tpl.AGENT_NEGATIVE)
    v.add("auto", tpl.AUTO_REPLY)
    for s, shop in enumerate(SHOPS):
        v.add(f"bot_greet{s}", [g.format(s=shop) for g in tpl.BOT_GREET])
    v.add("bot_mid", tpl.BOT_MID)
    v.add("sys_transfer", tpl.SYSTEM_TRANSFER)
    v.add("sys_end", tpl.SYSTEM_END)
    for score, comments in tpl.RATING_COMMENTS.items():
        v.add(f"comment{score}", comments)
    return v


def _topic_lookup(v: _Vocab, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and sizes of ``prefix`` groups indexed by kind * 8 + topic."""
    off = np.zeros(16, np.int64)
    size = np.ones(16, np.int64)
    for k, topics in ((PRESALE, tpl.PRESALE_TOPICS), (AFTERSALE, tpl.AFTERSALE_TOPICS)):
        for t in range(len(topics)):
            off[k * 8 + t], size[k * 8 + t] = v.groups[f"{prefix}{k}.{t}"]
    return off, size


def _seg_start(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _turns(rng: np.random.Generator, c: _Convs, ag: _Agents) -> _Turns:
    """Turns per conversation and, per turn, how many buyer and agent lines it has."""
    n = len(c)
    count = np.minimum(rng.geometric(0.3, n), 20)
    nt = int(count.sum())
    conv = np.repeat(np.arange(n), count)
    first = _seg_start(count)
    is_first = np.zeros(nt, bool)
    is_first[first] = True
    is_last = np.zeros(nt, bool)
    is_last[first + count - 1] = True
    buyer_lines = np.minimum(rng.geometric(0.6, nt), 6)  # buyers often send several lines
    mid = rng.random(nt) < 0.12  # a bot card or auto-reply right after the first line
    mid_auto = rng.random(nt) < 0.6
    # a conversation's last turn is the one most often left unanswered
    p_unanswered = ag.unanswered[c.agent[conv]] * np.where(is_last, 1.0, 0.3)
    answered = rng.random(nt) >= p_unanswered
    agent_lines = answered * (1 + (rng.random(nt) < 0.4) + (rng.random(nt) < 0.1))
    upset = c.upset[conv] & (rng.random(nt) < 0.6)
    return _Turns(
        count=count,
        conv=conv,
        first=first,
        is_first=is_first,
        is_last=is_last,
        buyer_lines=buyer_lines,
        mid=mid,
        mid_auto=mid_auto,
        answered=answered,
        agent_lines=agent_lines,
        upset=upset,
    )


def _turn_delays(
    rng: np.random.Generator, c: _Convs, ag: _Agents, t: _Turns
) -> tuple[np.ndarray, np.ndarray]:
    """Per turn: the agent's response time and the buyer's pause before the next turn, s."""
    nt = len(t.conv)
    agent = c.agent[t.conv]
    # Response latency after the buyer's last line: per-agent lognormal (long
    # tail), three times slower at night, and a rare very late answer (> 30 min,
    # which then lands in a new conversation and leaves the turn unanswered).
    hour = (c.start[t.conv] % DAY) // HOUR
    med = ag.resp_med[agent] * np.where(hour < 8, 3.0, 1.0)
    response = np.exp(rng.normal(np.log(med), ag.resp_sigma[agent]))
    response = np.where(rng.random(nt) < 0.006, rng.uniform(1800, 7200, nt), response)
    response = np.maximum(2, np.rint(response)).astype(np.int64)
    # a rare long pause (> 30 min) starts a new conversation too
    pause = np.exp(rng.normal(np.log(35.0), 1.1, nt))
    pause = np.where(rng.random(nt) < 0.03, rng.uniform(1900, 6 * HOUR, nt), pause)
    pause = np.maximum(1, np.rint(pause)).astype(np.int64)
    return response, pause


def _lines(t: _Turns) -> _Lines:
    """Each turn's lines in order: buyer lines (a bot card or auto-reply after
    the first one, sometimes), then the agent's answers."""
    per_turn = t.buyer_lines + t.mid + t.agent_lines
    nm = int(per_turn.sum())
    turn = np.repeat(np.arange(len(per_turn)), per_turn)
    turn_first = _seg_start(per_turn)
    pos = np.arange(nm) - turn_first[turn]
    mid = t.mid[turn]
    is_mid = mid & (pos == 1)
    rank = pos - (mid & (pos >= 1))  # rank among the turn's buyer and agent lines
    buyer_lines = t.buyer_lines[turn]
    is_agent = ~is_mid & (rank >= buyer_lines)
    return _Lines(
        turn=turn,
        conv=t.conv[turn],
        turn_first=turn_first,
        per_turn=per_turn,
        rank=rank,
        buyer_lines=buyer_lines,
        is_mid=is_mid,
        auto=is_mid & t.mid_auto[turn],
        is_buyer=~is_mid & (rank < buyer_lines),
        is_agent=is_agent,
        first_agent=is_agent & (rank == buyer_lines),
    )


def _line_offsets(
    rng: np.random.Generator, lines: _Lines, response: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of each line after its turn's first line, and each turn's duration."""
    nm = len(lines.turn)
    # Gaps to the previous line of the turn; buyer lines >= 2 s apart so the
    # 1-second auto-reply sits between them.
    buyer_gap = 2 + np.rint(np.exp(rng.normal(np.log(6.0), 1.0, nm)))
    gap = np.where(lines.is_buyer & (lines.rank > 0), buyer_gap, 0)
    gap = np.minimum(gap, 300).astype(np.int64)
    gap[lines.is_mid] = 1
    gap = np.where(lines.first_agent, response[lines.turn], gap)
    later_agent = lines.is_agent & (lines.rank > lines.buyer_lines)
    agent_gap = 3 + np.rint(np.exp(rng.normal(np.log(15.0), 0.8, nm)))
    gap = np.where(later_agent, agent_gap, gap).astype(np.int64)
    cs = np.cumsum(gap)
    offset = cs - cs[lines.turn_first][lines.turn]
    return offset, offset[lines.turn_first + lines.per_turn - 1]


def _turn_starts(
    rng: np.random.Generator, c: _Convs, t: _Turns, duration: np.ndarray, pause: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Start of each turn: the conversation's start, the lead after a bot greeting,
    then the earlier turns and the buyer's pauses; also the lead per conversation."""
    lead = np.where(c.bot_greet, rng.integers(3, 40, len(c)), 0)
    step = duration + pause
    cstep = np.cumsum(step)
    rel = cstep - step - (cstep - step)[t.first][t.conv]
    return c.start[t.conv] + lead[t.conv] + rel, lead


def _topic_pick(v: _Vocab, prefix: str, topic: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per line, a template of the ``prefix`` group of its topic (kind * 8 + topic)."""
    off, size = _topic_lookup(v, prefix)
    return off[topic] + np.minimum((u * size[topic]).astype(np.int64), size[topic] - 1)


def _buyer_text(
    c: _Convs, v: _Vocab, t: _Turns, lines: _Lines, u: np.ndarray, u2: np.ndarray
) -> np.ndarray:
    """Buyer lines: the topic's opener (or a transfer's), upset or thankful last
    lines, a phone number, an empty line, else a follow-up question."""
    opener = _topic_pick(v, "open", (c.kind * 8 + c.topic)[lines.conv], u)
    conv_opener = lines.is_buyer & t.is_first[lines.turn] & (lines.rank == 0)
    last_buyer = lines.is_buyer & (lines.rank == lines.buyer_lines - 1)
    return np.select(
        [
            conv_opener & c.transfer_in[lines.conv],
            conv_opener,
            last_buyer & t.upset[lines.turn],
            last_buyer & t.is_last[lines.turn] & (u2 < 0.5),
            u2 < 0.03,
            u2 < 0.06,
        ],
        [
            v.pick("transfer_open", u),
            opener,
            v.pick("upset", u),
            v.pick("thanks", u),
            v.pick("phone", u),
            v.pick("empty", u),
        ],
        v.pick("follow", u),
    )


def _agent_text(
    rng: np.random.Generator,
    c: _Convs,
    ag: _Agents,
    v: _Vocab,
    t: _Turns,
    lines: _Lines,
    u: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """Agent lines: the agent's own rate of problematic lines, a greeting first,
    empathy for upset buyers, a closing line, curt lines, else the topic's answer."""
    answer = _topic_pick(v, "answer", (c.kind * 8 + c.topic)[lines.conv], u)
    agent = c.agent[lines.conv]
    first_of_conv = lines.first_agent & t.is_first[lines.turn]
    last_of_conv = (
        lines.is_agent
        & t.is_last[lines.turn]
        & (lines.rank == lines.buyer_lines + t.agent_lines[lines.turn] - 1)
    )
    bad = u2 < ag.bad[agent]
    bad_kind = rng.random(len(lines.turn))
    content = np.select(
        [
            bad & (bad_kind < 0.5),
            bad & (bad_kind < 0.7),
            bad,
            first_of_conv & (u2 < 0.3 + ag.bad[agent]),
            first_of_conv,
            lines.first_agent & t.upset[lines.turn] & (u2 < ag.empathy[agent]),
            last_of_conv & (u2 < ag.close[agent]),
            u2 < 0.15,
        ],
        [
            v.pick("forbidden", u),
            v.pick("offsite", u),
            v.pick("negative", u),
            v.groups["greet_named"][0] + agent,
            v.pick("greet", u),
            v.pick("empathy", u),
            v.pick("close", u),
            v.pick("plain", u),
        ],
        answer,
    )
    curt = ~bad & (rng.random(len(lines.turn)) >= ag.polite[agent])
    return np.where(curt, v.pick("curt", u), content)


def _contents(
    rng: np.random.Generator, c: _Convs, ag: _Agents, v: _Vocab, t: _Turns, lines: _Lines
) -> np.ndarray:
    """Template index of every line, chosen by its role in the conversation."""
    nm = len(lines.turn)
    u = rng.random(nm)  # which template of the chosen group
    u2 = rng.random(nm)  # which group (kind of line)
    # the agent's lines draw more random numbers: evaluated first, as always
    content = np.where(
        lines.is_agent,
        _agent_text(rng, c, ag, v, t, lines, u, u2),
        _buyer_text(c, v, t, lines, u, u2),
    )
    mid_content = np.where(lines.auto, v.pick("auto", u), v.pick("bot_mid", u))
    return np.where(lines.is_mid, mid_content, content)


def _bot_greetings(rng: np.random.Generator, c: _Convs, v: _Vocab) -> tuple[np.ndarray, np.ndarray]:
    """The shop's bot greeting that opens some conversations: their rows and contents."""
    rows = np.flatnonzero(c.bot_greet)
    content = np.where(
        c.shop[rows] == 0,
        v.pick("bot_greet0", rng.random(len(rows))),
        v.pick("bot_greet1", rng.random(len(rows))),
    )
    return rows, content


def _closing_lines(
    rng: np.random.Generator, c: _Convs, v: _Vocab, last_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A system line after the last line (always after a transfer): rows, times, contents."""
    rows = np.flatnonzero(c.transfer_out | (rng.random(len(c)) < 0.12))
    time = last_time[rows] + rng.integers(2, 20, len(rows))
    content = np.where(
        c.transfer_out[rows],
        v.pick("sys_transfer", rng.random(len(rows))),
        v.pick("sys_end", rng.random(len(rows))),
    )
    return rows, time, content


def _chats(rng: np.random.Generator, c: _Convs, ag: _Agents, v: _Vocab) -> _Chats:
    """Messages of conversations ``c``: bot greeting, buyer turns, answers, endings."""
    t = _turns(rng, c, ag)
    response, pause = _turn_delays(rng, c, ag, t)
    lines = _lines(t)
    offset, duration = _line_offsets(rng, lines, response)
    turn_start, lead = _turn_starts(rng, c, t, duration, pause)
    sender = np.where(lines.is_buyer, BUYER, AGENT).astype(np.int8)
    sender[lines.is_mid & ~lines.auto] = BOT
    content = _contents(rng, c, ag, v, t, lines)
    greet_rows, greet_content = _bot_greetings(rng, c, v)
    last_turn = t.first + t.count - 1
    last_time = turn_start[last_turn] + duration[last_turn]
    end_rows, end_time, end_content = _closing_lines(rng, c, v, last_time)
    end = last_time.copy()
    end[end_rows] = end_time
    return _Chats(
        time=np.concatenate([turn_start[lines.turn] + offset, c.start[greet_rows], end_time]),
        conv=np.concatenate([lines.conv, greet_rows, end_rows]),
        sender=np.concatenate(
            [
                sender,
                np.full(len(greet_rows), BOT, np.int8),
                np.full(len(end_rows), SYSTEM, np.int8),
            ]
        ),
        auto=np.concatenate([lines.auto, np.zeros(len(greet_rows) + len(end_rows), bool)]),
        content=np.concatenate([content, greet_content, end_content]),
        first_buyer=c.start + lead,
        end=end,
        last_unanswered=~t.answered[last_turn],
    )


def _day_weights(start: dt.date, days: int) -> np.ndarray:
    """Weekends a bit busier; the 18th (618-style promotion) and its eve much busier."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    w = np.array([1.15 if d.weekday() >= 5 else 1.0 for d in dates])
    w *= np.array([2.2 if d.day == 18 else 1.4 if d.day in (16, 17) else 1.0 for d in dates])
    return w / w.sum()


def _convs(
    rng: np.random.Generator,
    start: np.ndarray,
    shop: np.ndarray,
    buyer: np.ndarray,
    kind: np.ndarray,
    agent: np.ndarray,
    transfer_in: np.ndarray,
) -> _Convs:
    n = len(start)
    n_topics = np.where(kind == PRESALE, len(tpl.PRESALE_TOPICS), len(tpl.AFTERSALE_TOPICS))
    return _Convs(
        start=start,
        shop=shop,
        agent=agent,
        buyer=buyer,
        kind=kind,
        topic=(rng.random(n) * n_topics).astype(np.int64),
        upset=rng.random(n) < np.where(kind == PRESALE, 0.03, 0.12),
        bot_greet=~transfer_in & (rng.random(n) < np.where(kind == PRESALE, 0.45, 0.3)),
        transfer_in=transfer_in,
        transfer_out=np.zeros(n, bool),
    )


def _dictionary(
    indices: np.ndarray, values: list[str] | pa.Array, valid: np.ndarray | None = None
) -> pa.DictionaryArray:
    """A dictionary-encoded text column; ``valid`` False = null.

    The dictionary keeps only the values in use, each once: pyarrow sizes a
    Parquet dictionary page for every entry of the array's dictionary but
    writes unused or repeated ones (two templates share a text) not at all,
    leaving uninitialised heap bytes in the file, which breaks same-seed,
    same-bytes.
    """
    dictionary = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    idx = indices.astype(np.int64)
    used = np.bincount(idx if valid is None else idx[valid], minlength=len(dictionary)) > 0
    remap = np.cumsum(used) - 1
    new = remap[idx]
    mask = None
    if valid is not None:
        new = np.where(valid, new, 0)
        mask = ~valid
    kept = dictionary.filter(pa.array(used))
    distinct = pc.unique(kept)  # in order of first occurrence
    if len(distinct) < len(kept):
        new = pc.index_in(kept, value_set=distinct).to_numpy()[new]
        kept = distinct
    return pa.DictionaryArray.from_arrays(pa.array(new.astype(np.int32), mask=mask), kept)


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype(np.int64), pa.timestamp("s"), mask=mask)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype(np.int64).astype(str)).tolist(), pa.string())


def _first_contacts(
    rng: np.random.Generator, config: DemoConfig, ag: _Agents, t0: int
) -> tuple[_Convs, int]:
    """Conversations buyers start, spread over shops (by agent load), kinds, busy
    days and hours; a few end in a transfer. Also the number of chatting buyers."""
    n_base = max(1, round(config.messages / (MESSAGES_PER_CONVERSATION * (1 + CHILD_SHARE))))
    shop_load = np.array([ag.load[ag.shop == s].sum() for s in range(2)])
    shop = rng.choice(2, size=n_base, p=shop_load / shop_load.sum())
    kind = np.where(rng.random(n_base) < 0.68, PRESALE, AFTERSALE)
    day = rng.choice(config.days, size=n_base, p=_day_weights(config.start, config.days))
    hour = rng.choice(24, size=n_base, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    start = t0 + day * DAY + hour * HOUR + rng.integers(0, HOUR, n_base)
    n_buyers = max(10, int(n_base * 0.55))
    buyer = rng.integers(0, n_buyers, n_base)
    base = _convs(
        rng, start, shop, buyer, kind, _route(rng, ag, shop, kind), np.zeros(n_base, bool)
    )
    base.transfer_out = rng.random(n_base) < 0.04
    return base, n_buyers


def _follow_ups(
    rng: np.random.Generator, ag: _Agents, base: _Convs, base_end: np.ndarray
) -> _Convs:
    """Conversations that follow ``base`` ones (which ended at ``base_end``): transfers
    continue with another agent seconds later; repeat contacts come back 30 min
    to 4 days later (most within the 48 h window)."""
    transfer = base.transfer_out
    repeat = ~transfer & (rng.random(len(base)) < 0.14)
    parents = np.flatnonzero(transfer | repeat)
    is_tr = transfer[parents]
    n_c = len(parents)
    c_kind = np.where(
        is_tr & (base.kind[parents] == PRESALE) & (rng.random(n_c) < 0.6),
        AFTERSALE,
        np.where(rng.random(n_c) < 0.5, AFTERSALE, PRESALE),
    )
    c_kind = np.where(is_tr | (c_kind == AFTERSALE), c_kind, base.kind[parents])
    r = rng.random(n_c)
    back = np.where(
        r < 0.45,
        rng.uniform(1801, 6 * HOUR, n_c),
        np.where(
            r < 0.85, rng.uniform(6 * HOUR, 48 * HOUR, n_c), rng.uniform(48 * HOUR, 96 * HOUR, n_c)
        ),
    )
    c_start = base_end[parents] + np.where(is_tr, rng.integers(5, 60, n_c), back.astype(np.int64))
    c_shop = base.shop[parents]
    c_agent = _route(rng, ag, c_shop, c_kind, avoid=np.where(is_tr, base.agent[parents], -1))
    return _convs(rng, c_start, c_shop, base.buyer[parents], c_kind, c_agent, is_tr)


def _chronological(first: _Chats, then: _Chats) -> _Chats:
    """The messages of both as one chronological export (ties keep thread order);
    ``then``'s conversations are numbered after ``first``'s."""
    n_first = len(first.end)
    time = np.concatenate([first.time, then.time])
    order = np.argsort(time, kind="stable")
    return _Chats(
        time=time[order],
        conv=np.concatenate([first.conv, then.conv + n_first])[order],
        sender=np.concatenate([first.sender, then.sender])[order],
        auto=np.concatenate([first.auto, then.auto])[order],
        content=np.concatenate([first.content, then.content])[order],
        first_buyer=np.concatenate([first.first_buyer, then.first_buyer]),
        end=np.concatenate([first.end, then.end]),
        last_unanswered=np.concatenate([first.last_unanswered, then.last_unanswered]),
    )


def _conversations(
    rng: np.random.Generator, config: DemoConfig, ag: _Agents, v: _Vocab, t0: int
) -> tuple[_Convs, _Chats, int]:
    """All conversations (first contacts, then their transfers and repeat contacts)
    with their messages in chronological order, and the number of chatting buyers."""
    base, n_buyers = _first_contacts(rng, config, ag, t0)
    chats = _chats(rng, base, ag, v)
    children = _follow_ups(rng, ag, base, chats.end)
    kids = _chats(rng, children, ag, v)
    conv = _Convs(
        *(
            np.concatenate([getattr(base, f), getattr(children, f)])
            for f in base.__dataclass_fields__
        )
    )
    return conv, _chronological(chats, kids), n_buyers


def _agents_table(ag: _Agents, agent_ids: pa.Array) -> pa.Table:
    """The agents export: every agent, with or without chats."""
    return pa.table(
        {
            "agent_id": agent_ids,
            "name": pa.array(ag.names, pa.string()),
            "shop_id": pa.array([SHOPS[s] for s in ag.shop], pa.string()),
            "team": pa.array(ag.team, pa.string()),
            "role": pa.array(ag.role, pa.string()),
        }
    )


def _messages_table(
    conv: _Convs,
    chats: _Chats,
    v: _Vocab,
    shops: pa.Array,
    agent_ids: pa.Array,
    buyer_names: pa.Array,
) -> pa.Table:
    """The messages export. The second shop's platform exports session ids; the
    flagship's does not, so both the explicit and the derived conversation rules
    get exercised."""
    m_conv = chats.conv
    has_id = conv.shop[m_conv] == 1
    conv_ids = _ids("S", 90_000_000 + np.arange(len(conv)))
    return pa.table(
        {
            "shop_id": _dictionary(conv.shop[m_conv], shops),
            "agent_id": _dictionary(conv.agent[m_conv], agent_ids),
            "buyer_id": _dictionary(conv.buyer[m_conv], buyer_names),
            "sender": _dictionary(chats.sender, list(SENDERS)),
            "sent_at": _ts(chats.time),
            "content": _dictionary(chats.content, v.array()),
            "auto_reply": pa.array(chats.auto),
            "conversation_id": _dictionary(m_conv, conv_ids, has_id),
        }
    )


def _orders_table(
    oc: dict[str, np.ndarray],
    refund_rows: np.ndarray,
    refund_amounts: np.ndarray,
    shops: pa.Array,
    buyer_names: pa.Array,
) -> pa.Table:
    """The orders export; orders refunded through a case carry its refund."""
    oc["refund"][refund_rows] = refund_amounts
    oc["status"][refund_rows] = 3
    statuses = [*tpl.ORDER_STATUS_PAID, tpl.ORDER_STATUS_REFUNDED, *tpl.ORDER_STATUS_UNPAID]
    return pa.table(
        {
            "order_id": _ids("", _order_no(np.arange(len(oc["created"])))),
            "shop_id": _dictionary(oc["shop"], shops),
            "buyer_id": _dictionary(oc["buyer"], buyer_names),
            "created_at": _ts(oc["created"]),
            "paid_at": _ts(oc["paid_at"], oc["paid"]),
            "amount": pa.array(oc["amount"]),
            "refund_amount": pa.array(oc["refund"]),
            "status": _dictionary(oc["status"], statuses),
        }
    )


def build(config: DemoConfig) -> DemoShop:
    """Generate the demo shop in memory (no files).

    One seeded generator feeds every step, so the steps' order is part of the
    output: a reordered or added draw changes every table after it.
    """
    rng = np.random.default_rng(config.seed)
    ag = _make_agents(rng, config.agents)
    v = _vocab(ag)
    t0 = _epoch_s(config.start)
    t_end = t0 + config.days * DAY
    conv, chats, n_buyers = _conversations(rng, config, ag, v, t0)
    buyer_names = _buyer_names(rng, n_buyers * 2)
    shops = pa.array(list(SHOPS), pa.string())
    agent_ids = pa.array(ag.ids, pa.string())
    messages = _messages_table(conv, chats, v, shops, agent_ids, buyer_names)
    first_buyer, conv_end, last_unanswered = chats.first_buyer, chats.end, chats.last_unanswered
    del chats  # the message columns live on in ``messages`` only
    agents = _agents_table(ag, agent_ids)
    oc, hist_order, hist_amount = _orders(rng, ag, conv, first_buyer, n_buyers, t0, config.days)
    cases, (refund_rows, refund_amounts) = _cases(
        rng, conv, first_buyer, hist_order, hist_amount, t_end, shops, agent_ids, buyer_names
    )
    orders = _orders_table(oc, refund_rows, refund_amounts, shops, buyer_names)
    ratings = _ratings(rng, ag, conv, conv_end, last_unanswered, v, shops, agent_ids, buyer_names)
    sessions = _sessions(rng, ag, t0, config.days, agent_ids)
    shifts = _shifts(ag, config.start)
    return DemoShop(agents, messages, orders, ratings, cases, sessions, len(conv), config,
                    shifts)


def _buyer_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Unique nicknames such as ``tb83920112`` / ``jd_4471930``."""
    # Multiplying by a prime coprime to 10**8 permutes 0..10**8-1: unique, not sequential.
    numbers = (np.arange(n, dtype=np.int64) * 48_271 + 1_234_567) % 100_000_000
    prefix = np.where(rng.random(n) < 0.7, "tb", "jd_")
    return pa.array(np.char.add(prefix, numbers.astype(str)).tolist(), pa.string())


def _order_no(rank: np.ndarray) -> np.ndarray:
    """Order numbers: a permutation of the creation rank, random-looking, never colliding."""
    return 3_000_000_000_000 + (rank * 982_451_653 + 7) % 1_000_000_000_000


def _chat_orders(
    rng: np.random.Generator, ag: _Agents, conv: _Convs, first_buyer: np.ndarray
) -> _OrderRows:
    """Orders after presale chats (the agent's skill decides who buys): most within
    minutes, some the next day, some too late to count, a few before asking."""
    n = len(conv)
    pre = np.flatnonzero((conv.kind == PRESALE) & (rng.random(n) < ag.skill[conv.agent]))
    k = len(pre)
    r = rng.random(k)
    delay = np.where(
        r < 0.70,
        np.exp(rng.normal(np.log(900), 1.0, k)),  # minutes after asking
        np.where(
            r < 0.88,
            rng.uniform(20 * HOUR, 40 * HOUR, k),  # the next day
            np.where(
                r < 0.95,
                rng.uniform(2 * DAY, 5 * DAY, k),  # too late to count
                -rng.uniform(HOUR, DAY, k),
            ),
        ),  # ordered before asking
    )
    delay = np.where(r < 0.70, np.minimum(delay, 20 * HOUR), delay)
    delay_s = np.rint(delay).astype(np.int64)
    created = first_buyer[pre] + np.where(delay_s == 0, 1, delay_s)
    return _OrderRows(created, conv.buyer[pre], conv.shop[pre], paid=rng.random(k) < 0.88)


def _silent_orders(
    rng: np.random.Generator, ag: _Agents, count: int, n_buyers: int, t0: int, days: int
) -> _OrderRows:
    """Orders of buyers who never chat (numbered after the chatting ones), mostly
    in the flagship shop, at the hours people chat."""
    day = rng.integers(0, days, count)
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    created = t0 + day * DAY + rng.choice(24, count, p=hour_p) * HOUR + rng.integers(0, HOUR, count)
    buyer = n_buyers + rng.integers(0, n_buyers, count)
    shop = np.where(rng.random(count) < 0.75, 0, int(ag.shop.max()))
    return _OrderRows(created, buyer, shop, paid=rng.random(count) < 0.9)


def _earlier_orders(
    rng: np.random.Generator, conv: _Convs, first_buyer: np.ndarray
) -> tuple[np.ndarray, _OrderRows]:
    """The after-sales conversations about an order, and those paid orders,
    placed 2-20 days before the chat."""
    after = np.flatnonzero((conv.kind == AFTERSALE) & (rng.random(len(conv)) < 0.85))
    created = first_buyer[after] - rng.integers(2 * DAY, 20 * DAY, len(after))
    return after, _OrderRows(
        created, conv.buyer[after], conv.shop[after], np.ones(len(after), bool)
    )


def _payments(
    rng: np.random.Generator, created: np.ndarray, paid: np.ndarray, refundable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per order: payment time, amount (0 if unpaid), direct refund (only where
    ``refundable`` is 1) and status index (3 = refunded, 4-5 = unpaid)."""
    total = len(created)
    paid_at = created + rng.integers(10, 1800, total)
    amount = np.round(np.exp(rng.normal(np.log(120.0), 0.7, total)), 2) * paid
    refund = np.where(
        rng.random(total) < 0.07,
        np.where(
            rng.random(total) < 0.7, amount, np.round(amount * rng.uniform(0.1, 0.5, total), 2)
        ),
        0.0,
    )
    refund = refund * refundable
    status = np.where(
        paid, np.where(refund > 0, 3, rng.integers(0, 3, total)), 4 + (rng.random(total) < 0.5)
    )
    return paid_at, amount, refund, status


def _orders(
    rng: np.random.Generator,
    ag: _Agents,
    conv: _Convs,
    first_buyer: np.ndarray,
    n_buyers: int,
    t0: int,
    days: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Orders after presale chats, orders without a chat, and the earlier orders
    that after-sales chats are about. Returns the columns sorted by creation,
    the row of each after-sales conversation's order (-1 = none) and its amount."""
    chat = _chat_orders(rng, ag, conv, first_buyer)
    silent = _silent_orders(rng, ag, max(1, int(len(chat.created) * 0.6)), n_buyers, t0, days)
    after, earlier = _earlier_orders(rng, conv, first_buyer)
    parts = (chat, silent, earlier)
    created = np.concatenate([p.created for p in parts])
    paid = np.concatenate([p.paid for p in parts])
    n_new = len(chat.created) + len(silent.created)
    # after-sales refunds follow cases
    refundable = np.concatenate([np.ones(n_new), np.zeros(len(after))])
    paid_at, amount, refund, status = _payments(rng, created, paid, refundable)

    order = np.argsort(created, kind="stable")
    rank = np.empty(len(created), np.int64)
    rank[order] = np.arange(len(created))
    cols = {
        "shop": np.concatenate([p.shop for p in parts])[order],
        "buyer": np.concatenate([p.buyer for p in parts])[order],
        "created": created[order],
        "paid_at": paid_at[order],
        "paid": paid[order],
        "amount": amount[order],
        "refund": refund[order],
        "status": status[order],
    }
    hist_order = np.full(len(conv), -1, np.int64)
    hist_order[after] = rank[n_new:]
    hist_amount = np.zeros(len(conv))
    hist_amount[after] = amount[n_new:]
    return cols, hist_order, hist_amount


def _cases(
    rng: np.random.Generator,
    conv: _Convs,
    first_buyer: np.ndarray,
    hist_order: np.ndarray,
    hist_amount: np.ndarray,
    t_end: int,
    shops: pa.Array,
    agent_ids: pa.Array,
    buyer_names: pa.Array,
) -> tuple[pa.Table, tuple[np.ndarray, np.ndarray]]:
    """After-sales cases opened from after-sales chats about an order."""
    rows = np.flatnonzero((hist_order >= 0) & (rng.random(len(conv)) < 0.4))
    n = len(rows)
    kind = rng.choice(4, n, p=[0.5, 0.25, 0.15, 0.1])
    opened = first_buyer[rows] + rng.integers(60, 1800, n)
    closed = opened + np.rint(np.exp(rng.normal(np.log(18.0), 1.0, n)) * HOUR).astype(np.int64)
    is_closed = (closed <= t_end) & (rng.random(n) >= 0.05)
    intervened = rng.random(n) < np.array([0.03, 0.03, 0.15, 0.7])[kind]
    outcome = np.where(
        intervened,
        rng.choice(4, n, p=[0.3, 0.4, 0.25, 0.05]),
        rng.choice(4, n, p=[0.72, 0.12, 0.06, 0.10]),
    )
    order = np.argsort(opened, kind="stable")
    rows, kind, opened, closed = rows[order], kind[order], opened[order], closed[order]
    is_closed, intervened, outcome = is_closed[order], intervened[order], outcome[order]
    refunded = is_closed & (kind <= 1) & (outcome <= 1)  # refund/return, resolved/buyer_won
    table = pa.table(
        {
            "case_id": _ids("CS", 24_000_000 + np.arange(n)),
            "shop_id": _dictionary(conv.shop[rows], shops),
            "agent_id": _dictionary(conv.agent[rows], agent_ids),
            "buyer_id": _dictionary(conv.buyer[rows], buyer_names),
            "order_id": _ids("", _order_no(hist_order[rows])),
            "kind": _dictionary(kind, ["refund", "return", "complaint", "dispute"]),
            "opened_at": _ts(opened),
            "closed_at": _ts(closed, is_closed),
            "platform_intervened": pa.array(intervened),
            "outcome": _dictionary(
                outcome, ["resolved", "buyer_won", "seller_won", "withdrawn"], is_closed
            ),
        }
    )
    return table, (hist_order[rows][refunded], hist_amount[rows][refunded])


def _ratings(
    rng: np.random.Generator,
    ag: _Agents,
    conv: _Convs,
    conv_end: np.ndarray,
    last_unanswered: np.ndarray,
    v: _Vocab,
    shops: pa.Array,
    agent_ids: pa.Array,
    buyer_names: pa.Array,
) -> pa.Table:
    """Service ratings after some conversations, skewed to 5, worse when upset."""
    n = len(conv)
    rows = np.flatnonzero(rng.random(n) < 0.28)
    k = len(rows)
    bad = conv.upset[rows] | last_unanswered[rows]
    # cumulative P(score <= 1..4): usual ratings vs. upset or ignored buyers
    cum = np.where(bad[:, None], [0.25, 0.45, 0.65, 0.8], [0.02, 0.04, 0.09, 0.22])
    u = rng.random(k) ** np.exp(-0.5 * ag.quality[conv.agent[rows]])  # good agents score higher
    score = 1 + (u[:, None] > cum).sum(axis=1)
    has_comment = rng.random(k) < 0.45
    uc = rng.random(k)
    comment = np.select(
        [score == s for s in range(1, 6)], [v.pick(f"comment{s}", uc) for s in range(1, 6)]
    )
    rated = conv_end[rows] + rng.integers(10, HOUR, k)
    order = np.argsort(rated, kind="stable")
    rows, rated, score, comment, has_comment = (
        rows[order],
        rated[order],
        score[order],
        comment[order],
        has_comment[order],
    )
    return pa.table(
        {
            "shop_id": _dictionary(conv.shop[rows], shops),
            "agent_id": _dictionary(conv.agent[rows], agent_ids),
            "buyer_id": _dictionary(conv.buyer[rows], buyer_names),
            "rated_at": _ts(rated),
            "score": pa.array(score.astype(np.int64)),
            "comment": _dictionary(comment, v.array(), has_comment),
        }
    )


def _sessions(
    rng: np.random.Generator, ag: _Agents, t0: int, days: int, agent_ids: pa.Array
) -> pa.Table:
    """Shifts of online/busy/away stretches; a few overlapping second-device logins."""
    active = np.flatnonzero(ag.load > 0)
    a = np.repeat(active, days)
    d = np.tile(np.arange(days), len(active))
    works = rng.random(len(a)) < 6 / 7
    a, d = a[works], d[works]
    n = len(a)
    presale = np.array([ag.role[i] != "aftersale" for i in a])
    late = presale & (a % 2 == 1)
    begin = t0 + d * DAY + np.where(late, 14 * HOUR + 1800, np.where(presale, 8 * HOUR, 9 * HOUR))
    begin = begin + rng.integers(-1200, 1200, n)
    length = np.where(presale, 9 * HOUR, 9 * HOUR) + rng.integers(-1800, 1800, n)
    segments = 7
    cuts = np.sort(rng.uniform(0, 1, (n, segments - 1)), axis=1)
    edges = np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1)
    edges = begin[:, None] + np.rint(edges * length[:, None]).astype(np.int64)
    s_start = edges[:, :-1].ravel()
    s_end = edges[:, 1:].ravel()
    s_agent = np.repeat(a, segments)
    status = rng.choice(3, n * segments, p=[0.72, 0.14, 0.14])
    keep = s_end > s_start
    extra = rng.random(n) < 0.06
    e_start = begin[extra] + rng.integers(0, 3 * HOUR, int(extra.sum()))
    e_end = e_start + rng.integers(1800, 2 * HOUR, len(e_start))
    starts = np.concatenate([s_start[keep], e_start])
    ends = np.concatenate([s_end[keep], e_end])
    agents = np.concatenate([s_agent[keep], a[extra]])
    statuses = np.concatenate([status[keep], np.zeros(len(e_start), np.int64)])
    order = np.lexsort((starts, agents))
    return pa.table(
        {
            "agent_id": _dictionary(agents[order], agent_ids),
            "started_at": _ts(starts[order]),
            "ended_at": _ts(ends[order]),
            "status": _dictionary(statuses[order], ["online", "busy", "away"]),
        }
    )


def _shifts(ag: _Agents, first_day: dt.date) -> pa.Table:
    """The weekly shift table (排班) the sessions follow: presale 08:00, the presale late
    shift 14:30, after-sales 09:00, every weekday; one dated change on the first day.

    Drawn without the random generator, so the other tables keep their bytes."""
    rows: list[tuple[str, str | None, str | None, str, str]] = []
    for i in np.flatnonzero(ag.load > 0):
        presale = ag.role[i] != "aftersale"
        start, end = ("14:30", "23:30") if presale and i % 2 == 1 else (
            ("08:00", "17:00") if presale else ("09:00", "18:00"))
        rows += [(ag.ids[i], None, str(w), start, end) for w in range(1, 8)]
    if rows:
        agent, _, _, _, _ = rows[0]
        rows.append((agent, first_day.isoformat(), None, "10:00", "19:00"))
    names = ("agent_id", "day", "weekday", "start", "end")
    return pa.table({n: pa.array([r[k] for r in rows], pa.string()) for k, n in enumerate(names)})


def write(shop: DemoShop, out: Path, file_format: str = "csv") -> None:
    """Write each table as ``out/<table>.csv`` (UTF-8) or ``.parquet``.

    Existing canonical files of the same tables are removed first, so a csv
    shop regenerated as parquet never leaves two copies for the loader to merge.
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be csv or parquet, not {file_format!r}")
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        for ext in ("csv", "parquet", "xlsx", "jsonl"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    for name, table in shop.tables().items():
        path = out / f"{name}.{file_format}"
        if file_format == "csv":
            pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        else:
            # Without the stored Arrow schema readers see plain string columns
            # (as from any other exporter), not dictionary types; zstd for size.
            pq.write_table(table, path, store_schema=False, compression="zstd")


def generate(out: Path, config: DemoConfig) -> str:
    """Generate the demo shop of ``config`` into ``out``; returns a one-line summary."""
    shop = build(config)
    write(shop, out, config.file_format)
    return shop.summary()
