"""A small valid shop, and what loading it gives, for the damage tests."""

from __future__ import annotations

from pathlib import Path

from kefu.ingest import load_dir

AGENTS = """agent_id,name,shop_id,team,role
旗舰店:小美,小美,旗舰店,售前一组,presale
旗舰店:小王,小王,旗舰店,售后组,aftersale
"""

MESSAGES = """agent_id,buyer_id,sender,sent_at,content
旗舰店:小美,买家甲,buyer,2024-06-01 10:00:00,在吗？想问下这款有货吗
旗舰店:小美,买家甲,agent,2024-06-01 10:00:20,亲，在的，有货哦
旗舰店:小美,买家甲,buyer,2024-06-01 10:01:00,"好的,拍了"
旗舰店:小王,买家乙,buyer,2024-06-02 14:00:00,我要退货
旗舰店:小王,买家乙,agent,2024-06-02 14:00:45,亲，已为您登记退货
旗舰店:小王,买家乙,buyer,2024-06-02 14:02:00,谢谢
"""

ORDERS = """order_id,buyer_id,created_at,paid_at,amount,refund_amount,status
o1,买家甲,2024-06-01 10:02:00,2024-06-01 10:03:00,1299.00,0,已付款
o2,买家乙,2024-05-28 09:00:00,2024-05-28 09:01:00,299.00,299.00,已退款
o3,买家丙,2024-06-03 11:00:00,,59.90,0,待付款
"""

RATINGS = """agent_id,buyer_id,rated_at,score,comment
旗舰店:小美,买家甲,2024-06-01 12:00:00,5,很好
旗舰店:小王,买家乙,2024-06-02 15:00:00,很不满意,慢
"""

CASES = """case_id,agent_id,buyer_id,order_id,kind,opened_at,closed_at,platform_intervened,outcome
c1,旗舰店:小王,买家乙,o2,return,2024-06-02 14:03:00,2024-06-03 09:00:00,否,resolved
"""

SESSIONS = """agent_id,started_at,ended_at,status
旗舰店:小美,2024-06-01 09:00:00,2024-06-01 12:00:00,online
旗舰店:小美,2024-06-01 12:00:00,2024-06-01 13:00:00,away
旗舰店:小王,2024-06-02 09:00:00,2024-06-02 18:00:00,在线
"""

FILES = {
    "agents.csv": AGENTS,
    "messages.csv": MESSAGES,
    "orders.csv": ORDERS,
    "ratings.csv": RATINGS,
    "cases.csv": CASES,
    "sessions.csv": SESSIONS,
}


def clean_shop(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return folder


def snapshot(folder: Path, **kwargs: object) -> dict[str, list[dict[str, object]]]:
    """Every loaded table as rows (ordinal left out: it is a position, not a value)."""
    dataset = load_dir(folder, **kwargs).dataset  # type: ignore[arg-type]
    out: dict[str, list[dict[str, object]]] = {}
    for name in ("agents", "messages", "orders", "ratings", "cases", "sessions"):
        table = dataset.table(name)
        assert table is not None
        out[name] = table.drop_columns(["ordinal"]).to_pylist()
    return out
