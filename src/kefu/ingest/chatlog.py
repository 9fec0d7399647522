"""Chat records that are text, not tables: JD 咚咚 session blocks, the Taobao/旺旺 message
manager's ``sender(time): text`` lines, and Twitter customer-care JSON, turned into
canonical message and agent records.

The files never say who is buyer and who is agent; the profile's rules decide
(RoleRules, first that fits): the shop's agents table, robot patterns, agent
patterns, else buyer. A buyer-side line holding a platform text (用户发起转人工, an
order card …) is ``system``. Every decision is reported (ChatRecords.roles).
Rules for threads (docs/data.md): a line belongs to the agent serving at that
moment (the last human agent who spoke, else the next one in the block, else the
human agent of the buyer's next block — a hand-over from the robot —, else the
robot account); a block of the same buyer opened by another agent is a transfer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kefu.ingest.errors import IngestError, RowError
from kefu.ingest.platforms import PlatformProfile, RoleRules, aliases
from kefu.ingest.readers import to_utf8

STAMP = r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}:\d{2}"
JD_HEADER = re.compile(rf"^\s*(?P<sender>\S.*?)\s+(?P<time>{STAMP})\s*$")
JD_BLOCK_START = "以下为一通会话"
JD_BLOCK_END = "会话结束"
TAOBAO_LINE = re.compile(
    rf"^(?P<sender>\S.*?)\s*[(（](?P<time>{STAMP})[)）]\s*[:：]\s?(?P<text>.*)$")
TWITTER_EPOCH_MS = 1288834974657


@dataclass
class Said:
    """One message as written in the file, before roles are known."""

    line: int
    sender: str
    sent_at: str
    content: str
    block: int


@dataclass
class RoleDecision:
    sender: str
    role: str
    reason: str
    messages: int = 0


@dataclass
class ChatRecords:
    """Canonical records from one chat-record file, and how they were obtained."""

    source: str
    messages: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """Source line of each message."""
    senders: list[str] = field(default_factory=list)
    """Sender as written, of each message."""
    agents: list[dict[str, str]] = field(default_factory=list)
    """Agent accounts met in the file that the shop's table does not have."""
    roles: list[RoleDecision] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class RoleResolver:
    """Sender → role by the profile's rules; remembers why, for the report."""

    def __init__(self, rules: RoleRules, known: Mapping[str, str]) -> None:
        self.rules = rules
        # a sender may be written as the account or the display name
        self.known = aliases(dict(known))
        self.agent_res = [re.compile(p) for p in rules.agent_patterns]
        self.bot_res = [re.compile(p) for p in rules.bot_patterns]
        self.system_res = [re.compile(p) for p in rules.system_patterns]
        self.decisions: dict[tuple[str, str], RoleDecision] = {}

    def account(self, sender: str) -> str:
        return self.known.get(sender, sender)

    def sender_role(self, sender: str) -> tuple[str, str]:
        if sender in self.known:
            return "agent", "in the shop's agents table"
        for regex in self.bot_res:
            if regex.search(sender):
                return "bot", f"robot pattern {regex.pattern!r}"
        for regex in self.agent_res:
            if regex.search(sender):
                return "agent", f"agent pattern {regex.pattern!r}"
        return "buyer", "matches no agent or robot rule"

    def role(self, sender: str, content: str) -> str:
        role, reason = self.sender_role(sender)
        if role == "buyer":
            text = next((t for t in self.rules.system_texts if t in content), None)
            if text is not None:
                role, reason = "system", f"platform text {text!r}"
            else:
                regex = next((r for r in self.system_res if r.search(content)), None)
                if regex is not None:
                    role, reason = "system", f"platform text pattern {regex.pattern!r}"
        decision = self.decisions.setdefault((sender, reason), RoleDecision(sender, role, reason))
        decision.messages += 1
        return role


def read_text(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError([], f"cannot read {path}: {exc}") from exc
    # UTF-8 (BOM dropped), else GB18030 ⊇ GBK (the old 旺旺 exports), else a guess
    return to_utf8(data, path.name).decode("utf-8").replace("\r\n", "\n").split("\n")


def split_jd(lines: list[str], source: str) -> tuple[list[Said], list[RowError]]:
    """JD 咚咚: ``/***…以下为一通会话…*/`` opens a block; ``sender YYYY-MM-DD HH:MM:SS`` lines
    are each followed by the message (one or more lines) up to the next such line."""
    said: list[Said] = []
    errors: list[RowError] = []
    block = 0
    inside = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if JD_BLOCK_START in line:
            block, inside = block + 1, True
            continue
        if JD_BLOCK_END in line and line.lstrip().startswith(("/*", JD_BLOCK_END)):
            inside = False
            continue
        header = JD_HEADER.match(line)
        if header and inside:
            said.append(Said(number, header["sender"].strip(), header["time"], "", block))
        elif inside and said and said[-1].block == block:
            said[-1].content = f"{said[-1].content}\n{line}" if said[-1].content else line.strip()
        elif line.strip():
            where = "outside a 以下为一通会话 block" if not inside else "before any sender line"
            errors.append(RowError(source, number, "", line[:200], f"text {where}"))
    for s in said:
        s.content = s.content.strip()
    return said, errors


def split_taobao(lines: list[str], source: str) -> tuple[list[Said], list[RowError]]:
    """Taobao/旺旺 message manager: ``sender(YYYY-MM-DD HH:MM:SS):  text``; a line without
    that opening continues the message above."""
    said: list[Said] = []
    errors: list[RowError] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        match = TAOBAO_LINE.match(line)
        if match:
            said.append(Said(number, match["sender"].strip(), match["time"],
                             match["text"].strip(), 0))
        elif said and line.strip():
            said[-1].content = f"{said[-1].content}\n{line.strip()}".strip()
        elif line.strip() and not set(line.strip()) <= set("=-*"):
            errors.append(RowError(source, number, "", line[:200], "text before any sender line"))
    return said, errors


def parse_chatlog(
    path: Path, profile: PlatformProfile, known: Mapping[str, str] | None = None
) -> ChatRecords:
    """A chat-record text file → canonical messages (and agents the shop's table lacks)."""
    assert profile.chatlog is not None
    lines = read_text(path)
    split = split_jd if profile.chatlog.format == "jd_blocks" else split_taobao
    said, errors = split(lines, path.name)
    out = ChatRecords(path.name, errors=errors)
    resolver = RoleResolver(profile.chatlog.roles, known or {})
    roles = [resolver.role(s.sender, s.content) for s in said]
    assign_threads(said, roles, resolver, out, path.stem)
    out.roles = sorted(resolver.decisions.values(), key=lambda d: (-d.messages, d.sender))
    out.agents = new_agents(out.messages, known or {}, profile)
    return out


def assign_threads(
    said: list[Said], roles: list[str], resolver: RoleResolver, out: ChatRecords, stem: str
) -> None:
    blocks: dict[int, list[int]] = {}
    for i, s in enumerate(said):
        blocks.setdefault(s.block, []).append(i)
    order = sorted(blocks)
    human = {b: next((resolver.account(said[i].sender) for i in blocks[b] if roles[i] == "agent"),
                     None) for b in order}
    buyer_of = {b: next((said[i].sender for i in blocks[b] if roles[i] in ("buyer", "system")),
                        None) for b in order}
    last_agent: dict[str, str] = {}
    for pos, b in enumerate(order):
        idx = blocks[b]
        fallback = human[b] or next(
            (human[c] for c in order[pos + 1:] if buyer_of[c] == buyer_of[b] and human[c]), None)
        if fallback is None:
            fallback = next((said[i].sender for i in idx if roles[i] == "bot"), None)
            if fallback is not None and buyer_of[b]:
                out.warnings.append(f"{out.source}:{said[idx[0]].line}: no human agent serves "
                                    f"{buyer_of[b]}; kept under the robot account {fallback}")
        buyer_now = buyer_of[b]
        agent_now: str | None = None
        ahead = [next((resolver.account(said[j].sender) for j in idx[k:] if roles[j] == "agent"),
                      None) for k in range(len(idx))]
        for k, i in enumerate(idx):
            s, role = said[i], roles[i]
            if role == "agent":
                if agent_now and resolver.account(s.sender) != agent_now:
                    out.transfers.append(f"line {s.line}: {buyer_now}: {agent_now} → "
                                         f"{resolver.account(s.sender)} (inside a block)")
                agent_now = resolver.account(s.sender)
            elif role in ("buyer", "system") and b == 0:
                buyer_now = s.sender  # one file, several buyers: the latest buyer
            agent = agent_now or ahead[k] or fallback
            if buyer_now is None or agent is None:
                what = "buyer" if buyer_now is None else "agent"
                out.errors.append(RowError(out.source, s.line, "sender", s.sender,
                                           f"no {what} line in this conversation"))
                continue
            out.messages.append({
                "agent_id": agent, "buyer_id": buyer_now, "sender": role,
                "sent_at": s.sent_at, "content": s.content,
                **({"conversation_id": f"{stem}#{b}"} if b else {}),
            })
            out.lines.append(s.line)
            out.senders.append(s.sender)
        serving = human[b]
        if b and buyer_now and serving:
            previous = last_agent.get(buyer_now)
            if previous and previous != serving:
                out.transfers.append(f"line {said[idx[0]].line}: {buyer_now}: {previous} → "
                                     f"{serving} (new block)")
            last_agent[buyer_now] = serving


def new_agents(
    messages: list[dict[str, str]], known: Mapping[str, str], profile: PlatformProfile
) -> list[dict[str, str]]:
    """Agent records for accounts the shop's table does not have (profile's role and team)."""
    seen: dict[str, None] = {}
    for m in messages:
        if m["agent_id"] not in known:
            seen.setdefault(m["agent_id"], None)
    return [{"agent_id": a, "name": a, "team": profile.team, "role": profile.default_role}
            for a in seen]


def tweet_time(tweet_id: str) -> str:
    """Snowflake ids carry their creation time (ms since the Twitter epoch)."""
    ms = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


def parse_twitter(path: Path, profile: PlatformProfile,
                  known: Mapping[str, str] | None = None) -> ChatRecords:
    """Twitter customer care (IBM's dev.json): client* = buyer, agent = brand handle; the
    final agent turn (agentURL) has no time, so it is taken from its tweet id."""
    out = ChatRecords(path.name)
    try:
        docs = json.loads(to_utf8(path.read_bytes(), path.name))
    except (OSError, ValueError) as exc:
        raise IngestError([], f"cannot read {path.name}: {exc}") from exc
    counts: Counter[tuple[str, str]] = Counter()
    for n, doc in enumerate(docs, start=1):
        header = doc["dialogHeader"]
        company, session = header["company"], header["sessionID"]
        turns = doc.get("dialogContent", [])
        buyer = next((m[k] for m in turns for k in m if k.startswith("client")), None)
        if buyer is None:
            out.errors.append(RowError(path.name, n, "client", session,
                                       "conversation has no client"))
            continue
        rows = []
        for m in turns:
            who = next((k for k in m if k.startswith("client") or k == "agent"), "")
            role = "agent" if who == "agent" else "buyer"
            counts[(m.get(who, ""), role)] += 1
            rows.append((m["datetime"], role, m["message"]))
        final = doc.get("agentURL")
        if final:
            rows.append((tweet_time(final["tweet_ID"]), "agent", final["url_utterance"]))
            counts[(company, "agent")] += 1
        for sent_at, role, text in rows:
            out.messages.append({"shop_id": company, "agent_id": company, "buyer_id": buyer,
                                 "sender": role, "sent_at": sent_at, "content": text,
                                 "conversation_id": session})
            out.lines.append(n)
            out.senders.append(buyer if role == "buyer" else company)
    reason = {"buyer": "key client* of the JSON", "agent": "key agent / agentURL of the JSON"}
    out.roles = [RoleDecision(s, r, reason[r], c) for (s, r), c in counts.most_common()]
    out.agents = [{**a, "shop_id": a["agent_id"]} for a in
                  new_agents(out.messages, known or {}, profile)]
    return out
