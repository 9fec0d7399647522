"""Property tests: importing twice equals once; row order does not change the multiset."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.ingest import load_dir

from .helpers import AGENTS_CSV, MESSAGES_HEADER, write

message_rows = st.lists(
    st.tuples(
        st.sampled_from(["旗舰店:小美", "旗舰店:小王"]),
        st.sampled_from(["b1", "b2"]),
        st.sampled_from(["buyer", "agent", "买家", "bot"]),
        st.integers(0, 5),
        st.sampled_from(["在吗", "在的", "", "好,的", '说"好"', "多\n行"]),
    ),
    max_size=12,
)


def csv_body(rows: list[tuple[str, str, str, int, str]]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return MESSAGES_HEADER + "".join(
        f"{a},{b},{s},2024-06-01 10:00:0{t},{quote(c)}\n" for a, b, s, t, c in rows
    )


def loaded_multiset(files: dict[str, str]) -> Counter[tuple[object, ...]]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write(folder, "agents.csv", AGENTS_CSV)
        for file, text in files.items():
            write(folder, file, text)
        # max_size may draw no rows: a header-only file, empty on purpose here.
        table = load_dir(folder, allow_empty=["messages"]).dataset.messages.drop_columns(
            ["ordinal"])
        return Counter(tuple(r.values()) for r in table.to_pylist())


@settings(max_examples=25, deadline=None)
@given(message_rows)
def test_importing_twice_equals_once(rows: list[tuple[str, str, str, int, str]]) -> None:
    body = csv_body(rows)
    once = loaded_multiset({"messages.csv": body})
    assert loaded_multiset({"messages.csv": body, "messages_again.csv": body}) == once
    assert sum(once.values()) == len(rows)


@settings(max_examples=25, deadline=None)
@given(message_rows, st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_multiset(
    rows: list[tuple[str, str, str, int, str]], random: object
) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert loaded_multiset({"messages.csv": csv_body(shuffled)}) == loaded_multiset(
        {"messages.csv": csv_body(rows)})


@settings(max_examples=20, deadline=None)
@given(message_rows, message_rows)
def test_overlap_is_max_of_counts(
    first: list[tuple[str, str, str, int, str]], second: list[tuple[str, str, str, int, str]]
) -> None:
    a = loaded_multiset({"messages_a.csv": csv_body(first)})
    b = loaded_multiset({"messages_b.csv": csv_body(second)})
    both = loaded_multiset({"messages_a.csv": csv_body(first), "messages_b.csv": csv_body(second)})
    assert both == a | b
