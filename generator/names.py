"""Realistic Chinese names: surnames by frequency, 1- and 2-character given names,
minority names with `·`, and a reserved pool of compound-surname names that are
unique in the county (used where a linkage outcome must not depend on chance)."""
from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

# approximate shares (per mille) of the most frequent surnames
_SURNAMES = (
    "王71 李70 张67 刘54 陈45 杨31 黄22 赵20 吴18 周17 徐14 孙13 马12 朱11 胡10 郭10 何9 "
    "高9 林9 罗8 郑8 梁7 谢6 宋6 唐5 许5 韩5 冯5 邓5 曹5 彭4 曾4 肖4 田4 董4 袁4 潘4 于3 "
    "蒋3 蔡3 余3 杜3 叶3 程3 苏3 魏3 吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟2 谭2 陆2 汪2 范2 "
    "金2 石2 廖2 贾2 夏2 韦2 付2 方2 白2 邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 "
    "龙2 史2 陶1 黎1 贺1 顾1 毛1 郝1 龚1 邵1 万1 钱1 严1 覃1 武1 戴1 莫1 孔1 向1 汤1 常1 "
    "温1 康1 施1 文1 牛1 樊1 葛1 邢1 安1 齐1 易1 乔1 伍1 庞1 颜1 倪1 庄1 聂1 章1 鲁1 岳1 "
    "翟1 殷1 詹1 申1 欧1 耿1 关1 兰1 焦1 俞1 左1 柳1 甘1 祝1 包1 宁1 尚1 符1 舒1 阮1 柯1 "
    "纪1 梅1 童1 凌1 毕1 单1 季1 裴1 霍1 涂1 成1 苗1 谷1 盛1 曲1 翁1 冉1 骆1 蓝1 路1 游1 辛1"
).split()
SURNAMES = [s[0] for s in _SURNAMES]
_SW = list(accumulate(int(s[1:]) for s in _SURNAMES))

MALE_CHARS = ("伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 "
              "洋 阳 峰 建 国 成 东 海 志 文 博 晨 轩 子 睿 泽 宏 兵 亮 贵 福 生 才 发 德 顺 永 祥 春 "
              "庆 忠 义 山 金 荣 新 振 家 昊 然 铭 航 豪 瑞 天 一 嘉 锦 乐 安 坤 江 红 卫 民 学 保").split()
FEMALE_CHARS = ("芳 娜 敏 静 丽 艳 娟 霞 秀 玲 桂 英 燕 萍 红 梅 琳 雪 婷 慧 莉 倩 颖 琴 云 洁 兰 凤 "
                "霞 欣 怡 佳 雨 涵 萱 琪 悦 彤 璐 晶 瑶 妍 婉 思 诗 梦 可 馨 蕾 月 春 菊 珍 玉 翠 淑 "
                "秋 素 荣 巧 红 美 金 爱 华 晓 文 丹 宁 雅 琦 嘉 欢 昕 语").split()
MINORITY_GIVEN = ["阿依古丽", "买买提", "艾力", "古丽娜尔", "热依拉", "阿卜杜拉", "努尔", "帕提古丽",
                  "吐尔逊", "迪丽拜尔", "阿力木", "米合尔", "再努尔", "艾尔肯", "布合力其"]
MINORITY_FATHER = ["买买提", "艾则孜", "阿不都", "吾斯曼", "热合曼", "托合提", "伊力哈木", "克里木",
                   "阿西木", "肉孜"]
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
            "司徒", "夏侯", "轩辕", "令狐", "钟离"]
RARE_POOL = ("子 云 景 行 若 水 清 和 明 远 书 墨 青 山 长 风 思 齐 致 知 见 素 抱 朴 守 正 怀 瑾 "
             "修 竹 望 舒 星 河 晴 川 秋 实 春 晖 雁 南 北 辰 澄 江 映 雪 听 松 观 澜 鸣 谦 笃 "
             "诚 敬 之 允 恭 惟 德 启 元 文 渊 博 雅 承 泽 弘 毅 敏 行 立 言 立 信 乐 天 安 和 "
             "嘉 树 梓 桐 芷 兰 蘅 芜 蔚 然 逸 尘 致 远").split()
RARE_POOL = list(dict.fromkeys(RARE_POOL))


def surname(rng) -> str:
    return SURNAMES[bisect_right(_SW, rng.randrange(_SW[-1]))]


def given(rng, male: bool) -> str:
    pool = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def minority_name(rng) -> str:
    return rng.choice(MINORITY_GIVEN) + "·" + rng.choice(MINORITY_FATHER)


def rare_name(counter: int) -> str:
    """Unique compound-surname name for counter 0, 1, 2, ..."""
    p = len(RARE_POOL)
    s = COMPOUND[counter % len(COMPOUND)]
    k = counter // len(COMPOUND)
    g = RARE_POOL[k % p] + RARE_POOL[(k // p) % p]
    k //= p * p
    while k:
        g += RARE_POOL[k % p]
        k //= p
    return s + g


# place names
_PLACE1 = ("东 西 南 北 前 后 上 下 大 小 新 老 王 李 张 刘 陈 杨 赵 马 高 孙 周 吴 石 柳 杏 桃 枣 "
           "梨 槐 杨 松 柏 河 湖 泉 沟 岭 山 坡 岗 庄 屯 营 堡 寨 店 集 桥 湾 洼 口 台 塘").split()
_PLACE2 = ("家 官 庄 屯 营 河 湾 岭 沟 村 集 店 桥 坡 台 洼 寨 林 园 楼 埠 疃 窝 峪 滩 岔 场 堂 "
           "王 李 张 刘 陈 杨 赵 花 柳 枣 柿 杏 桑 榆 柏 泉 井 塘").split()


def place_name(rng) -> str:
    return rng.choice(_PLACE1) + rng.choice(_PLACE2)
