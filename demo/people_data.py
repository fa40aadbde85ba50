"""Static data for ``manage.py seed_demo``: a fictional organisation, names and demo accounts.

Everything here is invented. The organisation has deliberately uneven branches (5 to 80
members) so that leaderboards, "points per member" and reports look like a real committee.
"""

from __future__ import annotations

from dataclasses import dataclass

from learning.people import roles

# The fixed seed keeps the generated names, phones and placements identical on every run.
RANDOM_SEED = 20240701

COMMITTEE_CODE = "DW01"
COMMITTEE_NAME = "中共青禾新区机关委员会"


@dataclass(frozen=True)
class BranchPlan:
    """A 党支部: ``size`` counts everyone in its subtree, demo accounts included."""

    code: str
    name: str
    size: int
    groups: tuple[str, ...] = ()
    retired: bool = False


@dataclass(frozen=True)
class GeneralBranchPlan:
    """A 党总支 and its branches, in display order."""

    code: str
    name: str
    branches: tuple[BranchPlan, ...]


# Branch codes are numbered across the whole committee (ZB01…ZB20), so the short code
# alone identifies a branch; full codes read DW01-ZZB02-ZB09-XZ01.
GENERAL_BRANCHES: tuple[GeneralBranchPlan, ...] = (
    GeneralBranchPlan(
        "ZZB01",
        "第一党总支",
        (
            BranchPlan("ZB01", "机关第一党支部", 12),
            BranchPlan("ZB02", "机关第二党支部", 9),
            BranchPlan("ZB03", "机关第三党支部", 6),
            BranchPlan("ZB04", "财务审计党支部", 18),
            BranchPlan("ZB05", "信息中心党支部", 25),
            BranchPlan("ZB06", "后勤服务党支部", 14),
        ),
    ),
    GeneralBranchPlan(
        "ZZB02",
        "第二党总支",
        (
            BranchPlan("ZB07", "发展改革党支部", 32),
            BranchPlan("ZB08", "经济运行党支部", 45),
            BranchPlan(
                "ZB09",
                "规划建设党支部",
                80,
                groups=("第一党小组", "第二党小组", "第三党小组", "第四党小组"),
            ),
            BranchPlan("ZB10", "生态环境党支部", 28),
            BranchPlan("ZB11", "应急管理党支部", 7),
        ),
    ),
    GeneralBranchPlan(
        "ZZB03",
        "第三党总支",
        (
            BranchPlan("ZB12", "教育服务中心党支部", 62),
            BranchPlan(
                "ZB13",
                "卫生健康中心党支部",
                75,
                groups=("医疗党小组", "公共卫生党小组", "行政后勤党小组"),
            ),
            BranchPlan("ZB14", "政务服务中心党支部", 40),
            BranchPlan("ZB15", "社会事务党支部", 15),
            BranchPlan("ZB16", "青年干部党支部", 20),
        ),
    ),
    GeneralBranchPlan(
        "ZZB04",
        "离退休干部党总支",
        (
            BranchPlan("ZB17", "离退休干部第一党支部", 55, retired=True),
            BranchPlan("ZB18", "离退休干部第二党支部", 38, retired=True),
            BranchPlan("ZB19", "老干部活动中心党支部", 5, retired=True),
            BranchPlan("ZB20", "流动党员党支部", 11),
        ),
    ),
)

# In a branch with party groups, the branch committee (支委) stays at branch level and
# everybody else belongs to one of the groups.
BRANCH_COMMITTEE_SIZE = 5


@dataclass(frozen=True)
class DemoAccount:
    """A login for trying one role; created through the member services."""

    username: str
    display_name: str
    label: str
    branch_code: str
    role_names: tuple[str, ...]
    phone: str | None = None
    superuser: bool = False
    secretary_of: str | None = None  # a general branch code


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "admin",
        "演示管理员",
        "管理员（超级用户）",
        "ZB05",
        (roles.MEMBER, roles.ADMINISTRATOR),
        superuser=True,
    ),
    DemoAccount("editor", "演示编辑", "编辑", "ZB01", (roles.MEMBER, roles.EDITOR)),
    DemoAccount("approver", "演示审核员", "审核", "ZB01", (roles.MEMBER, roles.APPROVER)),
    DemoAccount(
        "secretary",
        "演示支部书记",
        "支部书记（第二党总支）",
        "ZB07",
        (roles.MEMBER,),
        secretary_of="ZZB02",
    ),
    DemoAccount(
        "member",
        "演示党员",
        "党员",
        "ZB07",
        (roles.MEMBER,),
        phone="13800138000",
    ),
)

ORDINARY_USERNAME_FORMAT = "m{:04d}"

# Share of ordinary members who gave a mobile number.
PHONE_SHARE = 0.92
PHONE_PREFIXES = (
    *(f"13{digit}" for digit in range(10)),
    *(f"15{digit}" for digit in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *(f"18{digit}" for digit in range(10)),
)

# Family names with weights roughly proportional to their share of the population
# (hundredths of a percent), so 王 李 张 刘 陈 dominate as they do in real rosters.
FAMILY_NAMES: tuple[tuple[str, int], ...] = (
    ("王", 710),
    ("李", 700),
    ("张", 660),
    ("刘", 540),
    ("陈", 460),
    ("杨", 310),
    ("黄", 240),
    ("赵", 230),
    ("吴", 200),
    ("周", 190),
    ("徐", 150),
    ("孙", 150),
    ("马", 130),
    ("朱", 130),
    ("胡", 120),
    ("郭", 120),
    ("何", 110),
    ("高", 110),
    ("林", 100),
    ("罗", 90),
    ("郑", 80),
    ("梁", 80),
    ("谢", 70),
    ("宋", 70),
    ("唐", 70),
    ("许", 60),
    ("韩", 60),
    ("冯", 60),
    ("邓", 60),
    ("曹", 50),
    ("彭", 50),
    ("曾", 50),
    ("肖", 50),
    ("田", 50),
    ("董", 50),
    ("袁", 40),
    ("潘", 40),
    ("于", 40),
    ("蒋", 40),
    ("蔡", 40),
    ("余", 40),
    ("杜", 40),
    ("叶", 40),
    ("程", 40),
    ("苏", 30),
    ("魏", 30),
    ("吕", 30),
    ("丁", 30),
    ("任", 30),
    ("沈", 30),
    ("姚", 30),
    ("卢", 30),
    ("姜", 30),
    ("崔", 30),
    ("钟", 30),
    ("谭", 30),
    ("陆", 20),
    ("汪", 20),
    ("范", 20),
    ("金", 20),
    ("石", 20),
    ("廖", 20),
    ("贾", 20),
    ("夏", 20),
    ("韦", 20),
    ("付", 20),
    ("方", 20),
    ("白", 20),
    ("邹", 20),
    ("孟", 20),
    ("熊", 20),
    ("秦", 20),
    ("邱", 20),
    ("江", 20),
    ("尹", 20),
    ("薛", 20),
    ("闫", 20),
    ("段", 20),
    ("雷", 20),
    ("侯", 20),
    ("龙", 20),
    ("史", 20),
    ("陶", 10),
    ("黎", 10),
    ("贺", 10),
    ("顾", 10),
    ("毛", 10),
    ("郝", 10),
    ("龚", 10),
    ("邵", 10),
    ("万", 10),
    ("钱", 10),
    ("严", 10),
    ("覃", 10),
    ("武", 10),
    ("戴", 10),
    ("莫", 10),
    ("孔", 10),
    ("向", 10),
    ("汤", 10),
    ("欧阳", 3),
    ("上官", 1),
)

# Characters common in given names, by the generation and sex they are typical of.
# Older members (retired branches) mostly draw from the traditional pools.
GIVEN_NAME_CHARACTERS = {
    ("traditional", "male"): "国建华明军平志文海德福贵荣树林春生山成永立新庆忠宝义兴祥胜利",
    ("traditional", "female"): "秀兰芳玉桂珍红梅凤英华丽淑琴霞素云翠",
    ("modern", "male"): "伟强磊勇杰涛超刚辉鹏飞鑫波斌宇浩凯健俊帆旭宁龙阳峰晨博睿轩宏远嘉",
    ("modern", "female"): "敏静丽艳娟霞燕玲丹萍琳洁婷雪慧颖倩晶璐佳欣怡莉琪瑶璇萱涵诗雨",
}
# Share of given names that have a single character (e.g. 王磊, 李娜).
SINGLE_CHARACTER_GIVEN_NAME_SHARE = 0.25

# A handful of members from ethnic minorities, whose names do not follow the family +
# given pattern; each is used at most once.
MINORITY_NAMES = (
    "阿依古丽·买买提",
    "买买提·艾力",
    "古丽娜尔·吐尔逊",
    "热依汗古丽·阿不都",
    "扎西多吉",
    "格桑卓玛",
    "巴特尔",
    "乌云其木格",
)
MINORITY_NAME_SHARE = 0.015
