"""Real customer-care chats (shared/data/twitter_care) through the CSV and JSONL readers."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from kefu.ingest import IngestError, load_dir

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "twitter_care" / "dev.json"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared/data not available")


def tweet_time(tweet_id: str) -> str:
    # Twitter ids embed their time (ms since the epoch, shifted 22 bits).
    ms = (int(tweet_id) >> 22) + 1288834974657
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


def messages() -> tuple[list[str], list[dict[str, str]]]:
    companies: set[str] = set()
    rows: list[dict[str, str]] = []
    for dialog in json.loads(DATA.read_text(encoding="utf-8")):
        company = dialog["dialogHeader"]["company"]
        companies.add(company)
        thread = dialog["dialogHeader"]["sessionID"]
        for turn in dialog["dialogContent"]:
            client = turn.get("client")
            rows.append({
                "agent_id": company, "buyer_id": thread, "conversation_id": thread,
                "sender": "client" if client else "agent",
                "sent_at": turn.get("datetime") or tweet_time(turn["tweet_ID"]),
                "content": turn["message"],
            })
    return sorted(companies), rows


def write_shop(folder: Path, rows: list[dict[str, str]], companies: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agents.csv").write_text(
        "agent_id,role\n" + "".join(f"{c},both\n" for c in companies), encoding="utf-8")
    with (folder / "messages.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_real_chats_load_from_csv_and_jsonl(tmp_path: Path) -> None:
    companies, rows = messages()
    write_shop(tmp_path / "csv", rows, companies)
    from_csv = load_dir(tmp_path / "csv", tz="UTC").dataset.messages
    assert from_csv.num_rows == len(rows)
    assert from_csv.column("content").to_pylist() == [r["content"] for r in rows]
    assert set(from_csv.column("sender").to_pylist()) == {"buyer", "agent"}
    first = dt.datetime.fromisoformat(rows[0]["sent_at"].replace("Z", "+00:00"))
    assert from_csv.column("sent_at")[0].as_py() == first.replace(tzinfo=None)

    jsonl = tmp_path / "jsonl"
    jsonl.mkdir()
    (jsonl / "agents.csv").write_text((tmp_path / "csv" / "agents.csv").read_text())
    (jsonl / "messages.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    from_jsonl = load_dir(jsonl, tz="UTC").dataset.messages
    assert from_jsonl.equals(from_csv)


def test_bad_row_in_real_chats_is_on_its_physical_line(tmp_path: Path) -> None:
    companies, rows = messages()
    bad = len(rows) - 3
    rows[bad]["sender"] = "nobody"
    write_shop(tmp_path, rows, companies)
    with pytest.raises(IngestError) as caught:
        load_dir(tmp_path)
    [error] = caught.value.errors
    text = (tmp_path / "messages.csv").read_text(encoding="utf-8")
    # Counted independently: the line holding the one ',nobody,' field.
    expected = text[: text.index(",nobody,")].count("\n") + 1
    assert (error.line, error.column) == (expected, "sender")
    assert expected > bad + 2  # messages with newlines push it down
