"""Damaged shops: each loads exactly as the clean shop, or is refused naming file and line.

The corpus is built here from one small valid shop (tests/fuzz/shop.py): harmless
rewrites (encodings, line endings, date and number forms, layout) must give the
clean data; harmful damage must raise IngestError whose message names the file and
the line; random byte damage (hypothesis) must never raise anything else.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kefu.cli import app
from kefu.ingest import IngestError, load_dir

from .shop import FILES, clean_shop, snapshot

Damage = Callable[[Path], None]


def edit(name: str, change: Callable[[str], str], encoding: str = "utf-8") -> Damage:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(change(FILES[name]).encode(encoding))
    return apply


def raw_bytes(name: str, change: Callable[[bytes], bytes]) -> Damage:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(change(FILES[name].encode("utf-8")))
    return apply


def xlsx(name: str, split: int | None = None, title: bool = False, merge: str | None = None,
         other_header: list[str] | None = None, text: str | None = None) -> Damage:
    """The CSV as an XLSX: optionally continued on a second sheet, under a title, merged."""
    def apply(folder: Path) -> None:
        rows = list(csv.reader(io.StringIO(text or FILES[name])))
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        if title:
            sheet.append(["店铺报表 2024年6月"])
            sheet.append([])
        sheet.append(rows[0])
        for row in rows[1:] if split is None else rows[1:split + 1]:
            sheet.append(row)
        if split is not None:
            second = book.create_sheet("续表")
            second.append(other_header or rows[0])
            for row in rows[split + 1:]:
                second.append(row)
        if merge:
            sheet.merge_cells(merge)
        (folder / name).unlink()
        book.save(folder / name.replace(".csv", ".xlsx"))
    return apply


def parquet(name: str, column: str, values: pa.Array) -> Damage:
    def apply(folder: Path) -> None:
        table = pacsv.read_csv(io.BytesIO(FILES[name].encode()), convert_options=(
            pacsv.ConvertOptions(column_types={c: pa.string() for c in
                                               FILES[name].splitlines()[0].split(",")})))
        table = table.set_column(table.schema.get_field_index(column), column, values)
        (folder / name).unlink()
        pq.write_table(table, folder / name.replace(".csv", ".parquet"))
    return apply


def orders_cn_dates(text: str) -> str:
    return (text.replace("2024-06-01 10:02:00", "2024年6月1日 10:02")
            .replace("2024-05-28 09:00:00", "2024/5/28 9:00"))


TITLE = "店铺订单报表\n导出时间 2024-06-30\n\n"

HARMLESS: dict[str, Damage] = {
    "utf-8 BOM": raw_bytes("messages.csv", lambda b: b"\xef\xbb\xbf" + b),
    "CRLF line ends": raw_bytes("messages.csv", lambda b: b.replace(b"\n", b"\r\n")),
    "GB18030": edit("messages.csv", lambda t: t, "gb18030"),
    "UTF-16 with BOM": edit("messages.csv", lambda t: t, "utf-16"),
    "UTF-16 LE without BOM": edit("messages.csv", lambda t: t, "utf-16-le"),
    "UTF-16 BE without BOM": edit("ratings.csv", lambda t: t, "utf-16-be"),
    "blank lines at the end": edit("messages.csv", lambda t: t + "\n\n\n"),
    "title rows above the header": edit("orders.csv", lambda t: TITLE + t),
    "an extra column": edit("ratings.csv", lambda t: "".join(
        line + (",备注\n" if i == 0 else ",已回访\n")
        for i, line in enumerate(t.splitlines()))),
    "Chinese date forms": edit("orders.csv", orders_cn_dates),
    "epoch milliseconds": edit("orders.csv", lambda t: t.replace("2024-06-01 10:03:00",
                                                                  "1717207380000")),
    "thousands separator and ¥": edit("orders.csv", lambda t: t.replace("1299.00",
                                                                         '"¥1,299.00"')),
    "XLSX": xlsx("orders.csv"),
    "XLSX continued on a second sheet": xlsx("messages.csv", split=2),
    "XLSX with a title row": xlsx("orders.csv", title=True),
    "XLSX merged title only": xlsx("orders.csv", title=True, merge="A1:C1"),
    "Parquet epoch ms": parquet("orders.csv", "paid_at", pa.array(
        [1717207380000, 1716858060000, None], pa.int64())),
}

# damage → (file named in the message, line named, words of the reason)
HARMFUL: dict[str, tuple[Damage, str, int, str]] = {
    "empty messages": (raw_bytes("messages.csv", lambda b: b""), "messages.csv", 1, "empty"),
    "BOM only": (raw_bytes("messages.csv", lambda b: b"\xef\xbb\xbf"), "messages.csv", 1,
                 "empty"),
    "header only": (edit("orders.csv", lambda t: t.splitlines()[0] + "\n"), "orders.csv", 1,
                    "no rows"),
    "header only sessions": (edit("sessions.csv", lambda t: t.splitlines()[0]),
                             "sessions.csv", 1, "no rows"),
    "amout": (edit("orders.csv", lambda t: t.replace("amount,refund", "amout,refund")),
              "orders.csv", 1, "did you mean amount"),
    "state": (edit("sessions.csv", lambda t: t.replace("status", "state")), "sessions.csv", 1,
              "did you mean status"),
    "paid_at typo": (edit("orders.csv", lambda t: t.replace("paid_at", "payd_at")),
                     "orders.csv", 1, "did you mean paid_at"),
    "closed_at typo": (edit("cases.csv", lambda t: t.replace("closed_at", "close_at")),
                       "cases.csv", 1, "did you mean closed_at"),
    "required column gone": (edit("messages.csv", lambda t: t.replace("sent_at", "when")),
                             "messages.csv", 1, "missing required column"),
    "decimal comma": (edit("orders.csv", lambda t: t.replace("59.90", '"59,90"')),
                      "orders.csv", 4, "decimal comma"),
    "European amount": (edit("orders.csv", lambda t: t.replace("1299.00", '"1.299,00"')),
                        "orders.csv", 2, "decimal comma"),
    "1e309": (edit("orders.csv", lambda t: t.replace("59.90", "1e309")), "orders.csv", 4,
              "out of range"),
    "year 9999": (edit("orders.csv", lambda t: t.replace("2024-06-03 11:00:00",
                                                          "9999-12-31 00:00:00")),
                  "orders.csv", 4, "out of range"),
    "date without time": (edit("orders.csv", lambda t: t.replace("2024-06-03 11:00:00",
                                                                  "2024/6/3")),
                          "orders.csv", 4, "without a time"),
    "rich markup in a value": (edit("messages.csv", lambda t: t.replace(",agent,", ",[/]x[b],",
                                                                         1)),
                               "messages.csv", 3, "unknown sender"),
    "one invalid byte": (raw_bytes("messages.csv", lambda b: b[:150] + b"\xff" + b[150:]),
                         "messages.csv", 3, "not valid UTF-8"),
    "cut inside a character": (raw_bytes("messages.csv", lambda b: b[:-5]), "messages.csv", 7,
                               "cut off"),
    "NUL byte": (raw_bytes("messages.csv", lambda b: b[:100] + b"\x00" + b[100:]),
                 "messages.csv", 2, "NUL"),
    "XLSX merged team cells": (
        xlsx("agents.csv", merge="D2:D3", text=FILES["agents.csv"].replace("售后组", "")),
        "agents.xlsx", 2, "merged cells D2:D3"),
    "XLSX sheets of different tables": (xlsx("orders.csv", split=1, other_header=["备注"]),
                                        "orders.xlsx", 0, "'续表'"),
    "Parquet list column": (parquet("orders.csv", "order_id", pa.array([[1], [2], [3]])),
                            "orders.parquet", 1, "cannot be read as text"),
}


@pytest.fixture(scope="module")
def clean() -> dict[str, list[dict[str, object]]]:
    with tempfile.TemporaryDirectory() as name:
        return snapshot(clean_shop(Path(name)))


@pytest.mark.parametrize("damage", list(HARMLESS), ids=list(HARMLESS))
def test_harmless_damage_gives_the_clean_data(
    tmp_path: Path, damage: str, clean: dict[str, list[dict[str, object]]]
) -> None:
    folder = clean_shop(tmp_path)
    HARMLESS[damage](folder)
    assert snapshot(folder) == clean


@pytest.mark.parametrize("damage", list(HARMFUL), ids=list(HARMFUL))
def test_harmful_damage_is_refused_with_file_and_line(tmp_path: Path, damage: str) -> None:
    apply, file, line, words = HARMFUL[damage]
    folder = clean_shop(tmp_path)
    apply(folder)
    with pytest.raises(IngestError) as caught:
        load_dir(folder)
    message = str(caught.value)
    assert file in message and words in message, message
    if line:  # 0: a file-level refusal (the sheets), named without a line
        assert any((e.file, e.line) == (file, line) for e in caught.value.errors), message


@pytest.mark.parametrize("damage", ["rich markup in a value", "one invalid byte", "amout",
                                    "XLSX sheets of different tables"])
def test_cli_prints_the_refusal_without_traceback(tmp_path: Path, damage: str) -> None:
    apply, file, _, words = HARMFUL[damage]
    folder = clean_shop(tmp_path)
    apply(folder)
    result = CliRunner().invoke(app, ["metrics", "--data", str(folder), "--start", "2024-06-01",
                                      "--end", "2024-06-30", "--no-qa"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and file in result.output
    assert words in result.output.replace("\n", " ") or words in result.output
    if damage == "rich markup in a value":
        assert "'[/]x[b]'" in result.output  # printed literally, not read as markup


def test_empty_on_purpose(tmp_path: Path) -> None:
    folder = clean_shop(tmp_path)
    (folder / "cases.csv").write_text(FILES["cases.csv"].splitlines()[0] + "\n")
    cases = load_dir(folder, allow_empty=["cases"]).dataset.cases
    assert cases is not None and cases.num_rows == 0


def test_merged_cells_filled_down_when_the_profile_says_so(
    tmp_path: Path, clean: dict[str, list[dict[str, object]]]
) -> None:
    folder = clean_shop(tmp_path)
    text = FILES["agents.csv"].replace("售后组", "售前一组")
    xlsx("agents.csv", merge="D2:D3", text=text.replace(",售前一组,aftersale", ",,aftersale"))(
        folder)
    (tmp_path / "profile.yaml").write_text("fill_merged_cells: true\n")
    agents = load_dir(folder, profile=tmp_path / "profile.yaml").dataset.agents
    assert agents.column("team").to_pylist() == ["售前一组", "售前一组"]


# --- random damage ---------------------------------------------------------------------

FILE_NAMES = sorted(FILES)


@st.composite
def byte_damage(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(FILE_NAMES))
    data = bytearray(FILES[name].encode("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        byte = draw(st.integers(0, 255))
        if kind == "insert":
            data.insert(at, byte)
        elif kind == "delete" and at < len(data):
            del data[at]
        elif kind == "replace" and at < len(data):
            data[at] = byte
        elif kind == "truncate":
            del data[at:]
    return name, bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(byte_damage())
def test_random_byte_damage_never_crashes(damaged: tuple[str, bytes]) -> None:
    name, data = damaged
    with tempfile.TemporaryDirectory() as folder_name:
        folder = clean_shop(Path(folder_name))
        (folder / name).write_bytes(data)
        try:
            load_dir(folder)
        except IngestError as exc:
            # A file-level refusal names the damaged file; row errors may name the
            # files that depend on it (a lost agents row: their messages' agent_id).
            assert exc.errors or name in str(exc) or "no agents" in str(exc)
            for error in exc.errors:
                assert error.file == name or error.file in FILES
                assert error.line >= 1


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_one_high_byte_anywhere_is_refused_with_its_line(data: st.DataObject) -> None:
    """A byte ≥ 0x80 inserted into UTF-8 text always breaks it: never a silent change."""
    name = data.draw(st.sampled_from(FILE_NAMES))
    clean_bytes = FILES[name].encode("utf-8")
    at = data.draw(st.integers(0, len(clean_bytes)))
    byte = data.draw(st.integers(0x80, 0xFF))
    damaged = clean_bytes[:at] + bytes([byte]) + clean_bytes[at:]
    with tempfile.TemporaryDirectory() as folder_name:
        folder = clean_shop(Path(folder_name))
        (folder / name).write_bytes(damaged)
        with pytest.raises(IngestError) as caught:
            load_dir(folder)
    line = clean_bytes[:at].count(b"\n") + 1
    assert any(e.file == name and e.line == line for e in caught.value.errors), str(caught.value)


AMOUNTS = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(AMOUNTS, st.sampled_from(["plain", "thousands", "yuan", "decimal comma"]))
def test_amount_forms_read_exactly_or_are_refused(amount: object, form: str) -> None:
    plain = f"{amount:.2f}"
    whole, cents = plain.split(".")
    written = {
        "plain": plain,
        "thousands": f"{int(whole):,}.{cents}",
        "yuan": f"¥{plain}元",
        "decimal comma": f"{whole},{cents}",
    }[form]
    text = FILES["orders.csv"].replace("59.90", f'"{written}"')
    with tempfile.TemporaryDirectory() as folder_name:
        folder = clean_shop(Path(folder_name))
        (folder / "orders.csv").write_text(text)
        if form == "decimal comma":
            with pytest.raises(IngestError, match="decimal comma"):
                load_dir(folder)
            return
        orders = load_dir(folder).dataset.orders
    assert orders is not None
    assert orders.column("amount").to_pylist()[2] == float(plain)
