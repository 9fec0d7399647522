"""Overlapping exports merge without duplicates; ordinal follows file then line order."""

from __future__ import annotations

from pathlib import Path

from kefu.ingest import load_dir

from .helpers import AGENTS_CSV, MESSAGES_HEADER, rows, write

A = "旗舰店:小美,b1,buyer,2024-06-01 10:00:00,在吗\n"
B = "旗舰店:小美,b1,agent,2024-06-01 10:00:05,在的\n"
C = "旗舰店:小美,b1,buyer,2024-06-01 10:00:09,发货了吗\n"


def messages(folder: Path, **files: str) -> list[tuple[object, ...]]:
    write(folder, "agents.csv", AGENTS_CSV)
    for name, body in files.items():
        write(folder, f"{name}.csv", MESSAGES_HEADER + body)
    return rows(load_dir(folder), "messages", "content", "ordinal")


def test_identical_rows_inside_one_file_are_all_kept(tmp_path: Path) -> None:
    assert messages(tmp_path, messages=A + A + B) == [("在吗", 0), ("在吗", 1), ("在的", 2)]


def test_overlapping_files_count_max_not_sum(tmp_path: Path) -> None:
    got = messages(tmp_path, messages_1=A + A + B, messages_2=A + B + C + A + A)
    # 在吗: 2 in file 1, 3 in file 2 → 3; 在的: 1; 发货了吗: 1.
    assert sorted(c for c, _ in got) == ["发货了吗", "在吗", "在吗", "在吗", "在的"]
    # Kept rows have the ordinal of their first occurrence (file 1 has ordinals 0..2).
    assert got == [("在吗", 0), ("在吗", 1), ("在的", 2), ("发货了吗", 5), ("在吗", 7)]


def test_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    once = messages(tmp_path / "once", messages=A + A + B + C)
    twice = messages(tmp_path / "twice", messages=A + A + B + C, messages_copy=A + A + B + C)
    assert once == twice


def test_keyed_rows_identical_merge_different_last_file_wins(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", MESSAGES_HEADER + A)
    header = "order_id,buyer_id,created_at,amount\n"
    write(tmp_path, "orders_2024-05.csv", header
          + "O1,b1,2024-06-01 10:00,5\nO2,b1,2024-06-01 10:00,7\n")
    write(tmp_path, "orders_2024-06.csv", header
          + "O2,b1,2024-06-01 10:00,8\nO3,b1,2024-06-01 10:00,9\nO1,b1,2024-06-01 10:00,5\n")
    result = load_dir(tmp_path)
    assert rows(result, "orders", "order_id", "amount", "ordinal") == [
        ("O1", 5.0, 0), ("O2", 8.0, 1), ("O3", 9.0, 3),
    ]
    conflicts = [w for w in result.warnings if w.startswith("orders:")]
    assert conflicts == [
        "orders: 1 order_id values have different rows in different files; "
        "kept the row from the file whose name sorts last"
    ]


def test_agents_from_two_exports(tmp_path: Path) -> None:
    write(tmp_path, "agents_a.csv", AGENTS_CSV)
    write(tmp_path, "agents_b.csv", "agent_id,role\n旗舰店:小美,presale\n旗舰店:新人,售前\n")
    write(tmp_path, "messages.csv", MESSAGES_HEADER + A)
    result = load_dir(tmp_path)
    assert rows(result, "agents", "agent_id", "shop_id") == [
        ("旗舰店:小美", ""), ("旗舰店:小王", "旗舰店"), ("旗舰店:新人", ""),
    ]
    assert len([w for w in result.warnings if w.startswith("agents:")]) == 1
