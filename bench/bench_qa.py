"""QA throughput and peak memory on 1M chat messages, beside a naive phrase loop.

    .venv/bin/python bench/bench_qa.py [--messages 1000000] [--naive-sample 50000]
        [--compare-src OLD_CHECKOUT/src]

The messages are generated from templates in the style of real JD/Taobao chats
(canned agent phrases, order numbers, dates, buyer questions and complaints), so
texts repeat about as much as real exports do. Figures printed:

- ``flag_messages``: the full pipeline the metrics engine calls (dedupe, one
  Aho-Corasick pass per distinct text with negation/quote/exception handling,
  PII patterns, batched sentiment) on every message;
- phrase matching alone on every message of a sample (no dedupe): the naive
  loop ``for phrase in lexicon: if phrase in text`` beside the Aho-Corasick
  matcher, with the built-in lexicons and with lexicons 10x as large (a shop
  with its own long lists): the loop slows down with every phrase, the
  automaton does not;
- the naive loop extrapolated to all messages, beside flag_messages;
- with ``--compare-src``: flag_messages of this checkout and of another one
  (e.g. ``git worktree add /tmp/before main``), each in its own process,
  alternately, best of ``--rounds``, wall and CPU seconds, on the same messages —
  the figure before a change beside the figure after it, on the same machine
  under the same load.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
if "--src" in sys.argv:  # a child process timing another checkout (--compare-src)
    SRC = Path(sys.argv[sys.argv.index("--src") + 1])
sys.path.insert(0, str(SRC))

from kefu.qa import (  # noqa: E402
    AGENT_CHECKS,
    BUYER_CHECKS,
    Lexicons,
    find_hits,
    flag_messages,
    load_lexicons,
)
from kefu.qa.normalize import normalise  # noqa: E402

AGENT_CANNED = [
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "有什么问题我可以帮您处理或解决呢?",
    "还请您稍等，正在为您查询~",
    "请问还有其他还可以帮到您的吗?",
    "感谢您对本店的支持，祝您生活愉快，再见!",
    "亲，麻烦您提供一下订单号哦",
    "好的呢",
    "是的亲",
    "非常理解您的心情，给您添麻烦了",
    "还辛苦您给小妹打个评价呢~点击表情栏旁边的“+”哦。",
    "不好意思让您久等了",
]
AGENT_VARIABLE = [
    "亲，您的订单{order}已经发货了，预计{month}月{day}日送达哦",
    "这边帮您查询到订单{order}目前在{city}分拣中心，请您耐心等待",
    "已经为您申请退款{amount}元，{n}-{m}个工作日原路退回",
    "亲，这个没办法修改地址了哦，订单{order}已经出库",
    "抱歉，{item}目前暂时没有货，到货后第一时间给您发货",
    "这个我也不知道呢，您自己看一下物流吧",
    "加我微信{wx}，私下给你便宜{amount}元",
    "您好，{item}支持七天无理由退货，运费{amount}元需要您承担哦",
]
BUYER_VARIABLE = [
    "在吗",
    "我的{item}什么时候发货",
    "订单{order}怎么还没到？",
    "太差了，{item}收到就坏了，我要投诉",
    "能便宜点吗，{amount}元太贵了",
    "好的谢谢",
    "没有了",
    "地址改成{city}市幸福路{n}号{m}栋",
    "我的电话是1{phone}",
    "等了{n}天了还没发货，再不发我就给差评",
    "你们客服说“不知道”是什么意思？",
    "收到了，{item}很好用，五星好评",
]
ITEMS = ["空调", "手机", "纸尿裤", "耳机", "电脑", "羽绒服", "面膜", "洗衣机", "书包", "牛排"]
CITIES = ["北京", "上海", "广州", "深圳", "成都", "武汉", "杭州", "西安"]


def generate(count: int, seed: int = 7) -> tuple[list[str], list[bool]]:
    rng = random.Random(seed)
    texts: list[str] = []
    is_agent: list[bool] = []
    for _ in range(count):
        agent = rng.random() < 0.55
        if agent and rng.random() < 0.6:
            text = rng.choice(AGENT_CANNED)
        else:
            template = rng.choice(AGENT_VARIABLE if agent else BUYER_VARIABLE)
            text = template.format(
                order=rng.randrange(10**11, 10**12),
                month=rng.randint(1, 12),
                day=rng.randint(1, 28),
                city=rng.choice(CITIES),
                amount=rng.randint(5, 999),
                n=rng.randint(1, 9),
                m=rng.randint(1, 30),
                item=rng.choice(ITEMS),
                wx=f"kefu{rng.randint(100, 999)}",
                phone=rng.randrange(3 * 10**9, 10**10),
            )
        texts.append(text)
        is_agent.append(agent)
    return texts, is_agent


def naive_flags(texts: list[str], is_agent: list[bool], lexicons: Lexicons) -> int:
    """The loop a first version would write: every phrase of the role, every message."""
    agent_lists = [lexicons.phrases[c] for c in AGENT_CHECKS]
    buyer_lists = [lexicons.phrases[c] for c in BUYER_CHECKS]
    flagged = 0
    for text, agent in zip(texts, is_agent, strict=True):
        norm = normalise(text)
        for phrases in agent_lists if agent else buyer_lists:
            hit = False
            for phrase in phrases:
                if phrase in norm:
                    hit = True
            flagged += hit
    return flagged


def automaton_flags(texts: list[str], is_agent: list[bool], lexicons: Lexicons) -> int:
    """Aho-Corasick matching (with negation, quotes, exceptions) on every message, no dedupe."""
    agent_checks, buyer_checks = set(AGENT_CHECKS), set(BUYER_CHECKS)
    flagged = 0
    for text, agent in zip(texts, is_agent, strict=True):
        hits = find_hits(text, agent_checks if agent else buyer_checks, lexicons)
        flagged += len({hit.check for hit in hits})
    return flagged


def grown(lexicons: Lexicons, factor: int) -> Lexicons:
    """The lexicons with (factor - 1) × as many extra shop phrases in every check."""
    phrases = dict(lexicons.phrases)
    for check in (*AGENT_CHECKS, *BUYER_CHECKS):
        extra = [f"{p}{i}号" for i in range(factor - 1) for p in lexicons.phrases[check]]
        phrases[check] = (*lexicons.phrases[check], *extra)
    return Lexicons(phrases=phrases, exceptions=lexicons.exceptions)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def time_flags_only(messages: int) -> None:
    """Child mode: print "wall cpu" seconds of flag_messages on the generated messages."""
    flag_messages(["预热"], [True])
    texts, is_agent = generate(messages)
    wall, cpu = time.perf_counter(), time.process_time()
    flag_messages(texts, is_agent)
    print(f"{time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f}")


def compare(other_src: Path, messages: int, rounds: int) -> None:
    """flag_messages of this checkout beside another, alternately, best of ``rounds``."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for label, src in (("before", other_src), ("after", SRC)):
            out = subprocess.run(
                [sys.executable, __file__, "--flags-only", "--messages", str(messages),
                 "--src", str(src)],
                check=True, capture_output=True, text=True,
            ).stdout.split()
            wall, cpu = float(out[-2]), float(out[-1])
            old = best.get(label, (float("inf"), float("inf")))
            best[label] = (min(old[0], wall), min(old[1], cpu))
    print(f"\nflag_messages on {messages:,} messages, best of {rounds} (wall / CPU seconds):")
    for label, src in (("before", other_src), ("after", SRC)):
        wall, cpu = best[label]
        print(f"  {label:6} {wall:5.2f} s / {cpu:5.2f} s  ({src})")


def main() -> None:
    parser = argparse.ArgumentParser(description="QA throughput benchmark")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=50_000)
    parser.add_argument("--compare-src", type=Path, help="another checkout's src to time beside")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flags-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flags_only:
        time_flags_only(args.messages)
        return
    if args.compare_src:
        compare(args.compare_src, args.messages, args.rounds)
        return

    flag_messages(["预热"], [True])  # builds the automaton and loads the model untimed
    texts, is_agent = generate(args.messages)
    distinct = len(set(texts))
    before = peak_rss_mb()
    print(f"{args.messages:,} messages, {distinct:,} distinct texts ({distinct / len(texts):.0%})")
    print(f"peak RSS after generating them: {before:,.0f} MB")

    started = time.perf_counter()
    table = flag_messages(texts, is_agent)
    fast = time.perf_counter() - started
    after = peak_rss_mb()
    print(
        f"flag_messages: {fast:.2f} s, {args.messages / fast:,.0f} messages/s; "
        f"peak RSS {after:,.0f} MB (+{after - before:,.0f} MB)"
    )
    flagged = {name: sum(table.column(name).to_pylist()) for name in ("polite", "forbidden")}
    print(f"  e.g. polite {flagged['polite']:,}, forbidden {flagged['forbidden']:,}")

    distinct_texts = [f"{text}（{i}）" for i, text in enumerate(texts[:100_000])]
    worst = timed(lambda: flag_messages(distinct_texts, is_agent[: len(distinct_texts)]))
    print(
        f"worst case, every text distinct: {len(distinct_texts) / worst:,.0f} messages/s "
        f"→ {args.messages * worst / len(distinct_texts):.1f} s for {args.messages:,}"
    )

    sample = min(args.naive_sample, args.messages)
    sample_texts, sample_agent = texts[:sample], is_agent[:sample]
    print(f"\nphrase matching alone, every message of a {sample:,}-message sample, no dedupe:")
    builtin = load_lexicons()
    for label, lexicons in (("built-in lexicons", builtin), ("10x lexicons", grown(builtin, 10))):
        lexicons.automaton  # noqa: B018 - build it outside the timing
        naive = timed(lambda lex=lexicons: naive_flags(sample_texts, sample_agent, lex))
        automaton = timed(lambda lex=lexicons: automaton_flags(sample_texts, sample_agent, lex))
        print(
            f"  {label} ({lexicons.phrase_count():,} phrases): naive loop "
            f"{sample / naive:,.0f} msg/s, Aho-Corasick {sample / automaton:,.0f} msg/s "
            f"({naive / automaton:.1f}x)"
        )
        if lexicons is builtin:
            naive_all = naive * args.messages / sample
    print(
        f"\nall {args.messages:,} messages: flag_messages {fast:.1f} s (everything, deduped) vs "
        f"naive loop ~{naive_all:.1f} s (phrases only, extrapolated): "
        f"{naive_all / fast:.1f}x"
    )


if __name__ == "__main__":
    main()
