"""Page wording in zh-CN (default) and English, and numbers as shops write them."""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
LANG_COOKIE = "kefu_lang"

# key → (zh, en); a missing key shows itself, which a test catches
TEXT: dict[str, tuple[str, str]] = {
    "app": ("kefu 客服考核", "kefu agent evaluation"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "throttled": ("登录失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"),
    "home": ("首页", "Home"),
    "runs": ("考核批次", "Evaluation runs"),
    "no_runs": ("暂无可查看的考核批次", "No runs to show yet"),
    "new_run": ("新建考核", "New run"),
    "upload": ("上传数据", "Upload data"),
    "schemes": ("考核方案", "Schemes"),
    "audit": ("审计日志", "Audit log"),
    "users": ("用户", "Users"),
    "period": ("考核周期", "Period"),
    "start": ("开始日期", "Start"),
    "end": ("结束日期", "End"),
    "scheme": ("方案", "Scheme"),
    "version": ("版本", "Version"),
    "status": ("状态", "Status"),
    "computing": ("计算中", "Computing"),
    "failed": ("计算失败", "Failed"),
    "draft": ("草稿", "Draft"),
    "published": ("已发布（锁定）", "Published (locked)"),
    "superseded": ("已被新版本取代", "Superseded"),
    "publish": ("锁定发布", "Publish"),
    "recompute": ("重新计算", "Recompute"),
    "new_version": ("生成新版本", "New version"),
    "reason": ("原因", "Reason"),
    "agent": ("客服", "Agent"),
    "team": ("组", "Team"),
    "shop": ("店铺", "Shop"),
    "total": ("总分", "Score"),
    "grade": ("等级", "Grade"),
    "rank": ("排名", "Rank"),
    "pay": ("薪酬", "Pay"),
    "pay_total": ("薪酬合计", "Pay total"),
    "team_avg": ("组平均分", "Team average"),
    "your_rank": ("你的排名", "Your rank"),
    "of": ("共", "of"),
    "breakdown": ("得分明细", "Score breakdown"),
    "my_result": ("我的结果", "My result"),
    "item": ("考核项", "Item"),
    "value": ("指标值", "Value"),
    "points": ("得分", "Points"),
    "weight": ("权重", "Weight"),
    "contribution": ("贡献", "Contribution"),
    "note": ("备注", "Note"),
    "base": ("底薪", "Base"),
    "performance": ("绩效", "Performance"),
    "coefficient": ("系数", "Coefficient"),
    "bonuses": ("奖惩", "Bonuses"),
    "metrics": ("指标", "Metrics"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "files": ("文件", "Files"),
    "upload_hint": ("选择导出文件（agents/messages/orders/ratings/cases/sessions，csv/xlsx/"
                    "parquet/jsonl）；任何一行有误则整批不导入。",
                    "Choose export files (agents/messages/orders/ratings/cases/sessions, "
                    "csv/xlsx/parquet/jsonl); if any row is bad nothing is imported."),
    "imported": ("已导入", "Imported"),
    "already_imported": ("已导入过，未改变", "already imported, unchanged"),
    "rows": ("行", "rows"),
    "bad_rows": ("错误行", "Bad rows"),
    "rejected_rows": ("{n} 行有误，整批未导入（没有任何数据被导入）",
                      "{n} bad rows; nothing was imported"),
    "file": ("文件", "File"),
    "line": ("行号", "Line"),
    "column": ("列", "Column"),
    "cell": ("值", "Value"),
    "problem": ("原因", "Reason"),
    "templates": ("模板", "Templates"),
    "use_template": ("以此模板新建", "New from this template"),
    "save": ("保存", "Save"),
    "save_version": ("保存为新版本", "Save as new version"),
    "check": ("检查", "Check"),
    "scheme_ok": ("方案有效", "The scheme is valid"),
    "versions": ("历史版本", "Versions"),
    "name": ("名称", "Name"),
    "when": ("时间", "When"),
    "who": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "object": ("对象", "Object"),
    "detail": ("详情", "Detail"),
    "filter": ("筛选", "Filter"),
    "shown_range": ("显示第 {first}–{last} 行", "showing {first}–{last}"),
    "page_of": ("第 {n} / {pages} 页", "page {n} of {pages}"),
    "prev_page": ("上一页", "Previous"),
    "next_page": ("下一页", "Next"),
    "roles": ("角色", "Roles"),
    "links": ("关联", "Links"),
    "add_link": ("添加关联", "Add link"),
    "remove": ("移除", "Remove"),
    "active": ("启用", "Active"),
    "progress": ("进度", "Progress"),
    "no_scores_admin": ("管理员不查看考核结果", "Admins do not see results"),
    "not_found": ("页面不存在", "Not found"),
    "warnings": ("提示", "Warnings"),
    "role.agent": ("客服", "Agent"),
    "role.lead": ("主管/组长", "Team lead"),
    "role.qa": ("质检员", "QA inspector"),
    "role.director": ("运营总监", "Ops director"),
    "role.admin": ("管理员", "Admin"),
    "created_by": ("创建人", "Created by"),
    "published_by": ("发布人", "Published by"),
    "line_no": ("第{n}行", "line {n}"),
    "loss": ("失分", "Points lost"),
    "topics": ("培训内容", "Topics"),
    "training": ("培训计划", "Training plan"),
    "prev_points": ("上期得分", "Last period"),
    "improved": ("已改善", "Improved"),
    "not_improved": ("未改善", "Not improved"),
    "follow_up": ("上期培训项跟踪", "Last period's trained items"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "trend": ("趋势", "Trend"),
    "amount": ("金额 (元)", "Amount (CNY)"),
    "ranking": ("排名", "Ranking"),
    "agents": ("客服人数", "Agents"),
    "totals_distribution": ("总分分布", "Distribution of scores"),
    "grades_distribution": ("等级分布", "Grades"),
    "distribution": ("分布", "Distribution"),
    "kpi": ("指标", "KPI"),
    "target": ("目标", "Target"),
    "mom": ("环比", "vs last period"),
    "yoy": ("同比", "vs a year before"),
    "alarm": ("告警", "Alarm"),
    "alerts": ("告警", "Alerts"),
    "shop_kpis": ("店铺指标", "Shop KPIs"),
    "team_kpis": ("小组指标", "Team KPIs"),
    "pay_split": ("薪酬构成", "Pay split"),
    "deductions": ("扣款", "Deductions"),
    "segment": ("时段", "Segment"),
    "scope": ("范围", "Scope"),
    "rule": ("规则", "Rule"),
    "moved": ("权重调整", "Weight moved"),
    "triggers": ("触发规则", "Triggers that fired"),
    "scenario": ("场景", "Scenario"),
    "scenarios": ("场景", "Scenarios"),
    "days": ("天数", "Days"),
    "weakest": ("最弱项", "Weakest items"),
    "members": ("组员对比", "Members"),
    "team_vs_shop": ("小组 vs 店铺", "Team against the shop"),
    "check_rule": ("质检规则", "Check"),
    "buyer": ("买家", "Buyer"),
    "content": ("内容", "Message"),
    "qa_hits": ("自动质检命中", "Automatic-check hits"),
    "check.forbidden": ("禁用语", "Forbidden words"),
    "check.offsite": ("站外引导", "Off-site lead"),
    "check.negative": ("负面语气", "Negative tone"),
    "check.agent_negative": ("负面语气", "Negative tone"),
    "check.upset_no_empathy": ("买家不满未安抚", "Upset buyer, no empathy"),
    "check.polite": ("礼貌用语", "Polite"),
    "check.greeting": ("问候语", "Greeting"),
    "check.closing": ("结束语", "Closing"),
    "check.empathy": ("共情表达", "Empathy"),
    "check.policy_refusal": ("婉拒", "Policy refusal"),
    "check.brush_off": ("敷衍", "Brush-off"),
    "check.buyer_upset": ("买家不满", "Buyer upset"),
    "check.buyer_waiting": ("买家催促", "Buyer waiting"),
    "check.buyer_urgent": ("买家着急", "Buyer urgent"),
    "check.pii": ("隐私信息", "Personal data"),
    "check_fault": ("扣分项", "Fault"),
    "check_good": ("加分项", "Good practice"),
    "legend": ("图例", "Legend"),
    "bot": ("机器人", "Bot"),
    "auto_reply": ("自动回复", "Auto-reply"),
    "sender.bot": ("机器人", "Bot"),
    "sender.system": ("系统", "System"),
    "response_time": ("响应", "Response"),
    "conversation": ("会话", "Conversation"),
    "chats": ("聊天记录", "Chats"),
    "table_view": ("数据表", "Table view"),
    "download_png": ("下载 PNG", "Download PNG"),
    "export_xlsx": ("导出 XLSX", "Export XLSX"),
    "report_card": ("绩效考核表", "Monthly report card"),
    "account": ("子账号", "Account"),
    "sign_agent": ("被考核人签字", "Agent's signature"),
    "sign_lead": ("主管签字", "Team lead's signature"),
    "sign_director": ("运营总监签字", "Director's signature"),
    "date": ("日期", "Date"),
    "director_board": ("运营看板", "Director's dashboard"),
    "lead_board": ("小组看板", "Team dashboard"),
    "qa_board": ("质检看板", "QA dashboard"),
    "dashboards": ("看板", "Dashboards"),
    "show": ("查看", "Show"),
    "breakdown_hint": ("点击指标值查看其背后的明细行与聊天记录。",
                       "Click a value to see the rows and chats behind it."),
    "evidence_hint": ("构成该数字的明细行（与指标同一份事实数据）：",
                      "The rows that make this number (the same facts as the metric):"),
    "first_rows": ("显示前 {n} 行，全部见 XLSX", "first {n} shown; all in the XLSX"),
}


def t(key: str, lang: str) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def money(x: Any) -> str:
    """元 with thousands separators: 12,345.5 → 12,345.50 (whole yuan without decimals)."""
    if x is None:
        return "–"
    v = float(x)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"


def pct(x: Any) -> str:
    return "–" if x is None else f"{float(x) * 100:.1f}%"


def score(x: Any) -> str:
    return "–" if x is None else f"{float(x):.1f}"


def metric_value(x: Any, unit: str, lang: str = "zh") -> str:
    """A metric value in its unit (ratio as %, seconds, 元, counts)."""
    if x is None:
        return "–"
    v = float(x)
    if unit == "ratio":
        return pct(v)
    if unit == "cny":
        return money(v)
    if unit == "seconds":
        sec = "s" if lang == "en" else "秒"
        return f"{v:,.1f} {sec}" if v < 600 else f"{v:,.0f} {sec}"
    if unit == "hours":
        return f"{v:,.1f} h"
    if unit == "count":
        return f"{v:,.0f}"
    return f"{v:,.2f}"
