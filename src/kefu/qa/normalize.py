"""Character-for-character text normalisation for matching.

Every character maps to exactly one character, so an offset found in the
normalised text is the same offset in the original text: spans reported to
users always point into what the agent or buyer really typed.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Traditional → simplified, one character each (a small table of the
# characters common in shop chats, not a full converter). Only characters that
# never occur in simplified text are listed, so simplified input is unchanged.
_T2S_PAIRS = (
    "謝谢們们這这個个麼么說说時时會会對对還还來来過过後后給给請请問问題题應应該该沒没"
    "辦办無无見见話话長长東东買买賣卖貨货價价錢钱單单號号碼码電电聯联係系務务為为處处"
    "理理態态優优惠惠質质塊块與与產产業业廠厂開开關关門门閉闭運运輸输遞递郵邮寄寄送送"
    "訂订購购車车貼贴換换退退款款讓让認认識识記记錄录帳账戶户傳传輛辆麵面飯饭餐餐點点"
    "滿满意意發发貨货壞坏舊旧壓压損损漏漏髒脏亂乱煩烦氣气憤愤惱恼厭厌討讨騙骗詐诈廢废"
    "差差評评訴诉投投幫帮忙忙謂谓讀读寫写聽听聞闻覺觉視视顯显實实確确麗丽歡欢樂乐愛爱"
    "親亲戚戚誠诚懇恳禮礼貌貌專专業业歲岁數数據据隊队員员區区縣县鎮镇鄉乡鄰邻樓楼層层"
    "蘭兰灣湾廣广東东門门熱热燒烧涼凉鮮鲜膩腻鹹咸醬酱湯汤雞鸡魚鱼肉肉飽饱餓饿緊紧張张"
    "慢慢遲迟誤误錯错備备準准確确證证驗验機机構构幾几萬万億亿兩两嗎吗呢呢啊啊嗯嗯喲哟"
    "紹绍續续線线網网頁页標标識识鐘钟錶表體体驗验戲戏劇剧藝艺術术師师學学習习書书報报"
    "紙纸筆笔盒盒裝装袋袋箱箱櫃柜態态總总結结級级極极邊边遠远近近條条須须該该執执導导"
    "險险風风雲云陽阳陰阴憶忆懷怀戀恋聲声響响頭头臉脸腦脑髮发鬆松緩缓衝冲擊击戰战爭争"
    "權权利利紀纪律律規规範范則则違违禁禁止止異异議议論论談谈諮咨詢询復复複复雜杂雙双"
    "並并隻只裡里裏里於于啟启徑径從从眾众倫伦偉伟傷伤僅仅億亿優优兒儿內内冊册凍冻劃划"
    "勞劳勢势勵励匯汇華华協协卻却廳厅嚴严團团園园圍围圖图場场塵尘壽寿夢梦夥伙奪夺奮奋"
    "婦妇媽妈孫孙寶宝審审尋寻導导屬属島岛嶺岭帶带幣币幫帮廚厨彈弹徵征憂忧戶户摯挚擔担"
    "據据擇择擾扰攜携敵敌斷断昇升暫暂曆历棄弃棟栋槍枪樣样橋桥檢检歸归殘残殺杀毀毁氣气"
    "測测濟济濕湿灑洒災灾爺爷牆墙獎奖獨独環环瑪玛產产畢毕畫画當当療疗盡尽盤盘礎础"
    "種种稱称穩稳窮穷競竞筆笔節节範范簡简糧粮紅红約约紐纽純纯紛纷級级細细終终組组絡络"
    "給给統统絲丝經经綠绿維维綜综緒绪練练縮缩繩绳織织罰罚羅罗義义聖圣職职膽胆興兴舉举"
    "艦舰莊庄薦荐藥药蟲虫補补襪袜觀观觸触計计訊讯託托記记訪访設设許许診诊詞词試试誇夸"
    "認认誘诱語语誰谁調调諾诺謀谋講讲謹谨證证譯译護护讚赞貝贝負负財财貧贫貸贷費费資资"
    "賠赔賬账賺赚購购賽赛趕赶趨趋跡迹蹤踪軟软較较載载輕轻輪轮轉转辭辞農农邊边鄭郑醫医"
    "針针鈔钞鋪铺鎖锁鏈链鑰钥閃闪閒闲間间閱阅闆板陳陈陸陆隨随隱隐雖虽難难電电靜静順顺"
    "預预領领頻频顆颗顧顾願愿類类顏颜飛飞飲饮餘余館馆馬马駕驾驗验騰腾驚惊鬧闹魯鲁鳥鸟"
    "麥麦黃黄齊齐齒齿龍龙龜龟擺摆攤摊撥拨擴扩搶抢損损懶懒嘆叹噸吨囉啰嚇吓嘩哗嗚呜鬥斗"
    "繫系妳你爲为説说麽么衛卫絕绝寬宽鍋锅殼壳臺台豬猪"
)


def _t2s_table() -> dict[int, int]:
    pairs = _T2S_PAIRS
    table: dict[int, int] = {}
    for i in range(0, len(pairs) - 1, 2):
        trad, simp = pairs[i], pairs[i + 1]
        if trad != simp:
            table[ord(trad)] = ord(simp)
    return table


@cache
def normalise_table() -> dict[int, int]:
    """The translate table: NFKC (one-character results only), 繁→简, ASCII lower case.

    Built once for the Basic Multilingual Plane; characters outside it (most
    emoji) are kept as they are.
    """
    t2s = _t2s_table()
    table: dict[int, int] = {}
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        # An expansion (e.g. "㈱" → "(株)") would shift every later offset.
        if len(folded) != 1:
            folded = char
        folded = chr(t2s.get(ord(folded), ord(folded)))
        if "A" <= folded <= "Z":
            folded = folded.lower()
        if folded != char:
            table[code] = ord(folded)
    return table


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified, lower-case ASCII; same length."""
    return text.translate(normalise_table())
