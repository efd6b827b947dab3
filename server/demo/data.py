"""The demo bureau's registry: units, sites and people (plain data, no database).

Everything lies in 徐州市云龙区 (Xuzhou, Yunlong District); coordinates are WGS-84 and
made up to look plausible, not surveyed.
"""

PASSWORD = "mingcha-demo"  # noqa: S105 - a printed, shared password for a local demo only

# code, name, responsible leader (包挂领导)
UNITS = [
    ("BGS", "局办公室", "王振华 局长"),
    ("JGDW", "机关党委", "赵敏 党组成员、机关党委书记"),
    ("JZY", "建筑业管理科", "李建国 副局长"),
    ("CSJS", "城市建设科", "张卫东 副局长"),
    ("CZJS", "村镇建设科", "刘明 副局长"),
    ("FDC", "房地产管理科", "陈志强 副局长"),
    ("WYGL", "物业管理科", "陈志强 副局长"),
    ("XZSP", "行政审批科", "孙丽 副局长"),
    ("JHCW", "计划财务科", "王振华 局长"),
    ("RSK", "人事科", "赵敏 党组成员、机关党委书记"),
    ("ZAZ", "建设工程质量安全监督站", "李建国 副局长"),
    ("LDS", "路灯管理所", "张卫东 副局长"),
]

# The bureau's own building; its offices sit within a few dozen metres of it.
BUREAU_ADDRESS = "徐州市云龙区和平路88号住建局机关大楼"

# code, name, kind, unit code, lat, lon, radius in metres, address
SITES = [
    ("JG01", "局办公室", "office", "BGS", 34.25128, 117.22641, 80, BUREAU_ADDRESS + "三楼"),
    ("JG02", "机关党委", "office", "JGDW", 34.25131, 117.22662, 80, BUREAU_ADDRESS + "三楼"),
    ("JG03", "建筑业管理科", "office", "JZY", 34.25109, 117.22672, 80, BUREAU_ADDRESS + "四楼"),
    ("JG04", "城市建设科", "office", "CSJS", 34.25102, 117.22633, 80, BUREAU_ADDRESS + "四楼"),
    ("JG05", "村镇建设科", "office", "CZJS", 34.25140, 117.22620, 80, BUREAU_ADDRESS + "五楼"),
    ("JG06", "房地产管理科", "office", "FDC", 34.25095, 117.22690, 80, BUREAU_ADDRESS + "五楼"),
    ("JG07", "物业管理科", "office", "WYGL", 34.25150, 117.22685, 80, BUREAU_ADDRESS + "六楼"),
    ("JG08", "政务服务中心住建窗口", "office", "XZSP", 34.24252, 117.24398, 80,
     "徐州市云龙区新元大道1号区政务服务中心一楼"),
    ("JG09", "计划财务科", "office", "JHCW", 34.25118, 117.22608, 80, BUREAU_ADDRESS + "二楼"),
    ("JG10", "人事科", "office", "RSK", 34.25136, 117.22703, 80, BUREAU_ADDRESS + "二楼"),
    ("JG11", "质量安全监督站办公区", "office", "ZAZ", 34.24763, 117.23184, 80,
     "徐州市云龙区和平路东段126号"),
    ("JG12", "路灯管理所值班室", "office", "LDS", 34.26210, 117.24022, 80,
     "徐州市云龙区民主北路路灯管理所院内"),
    ("DL01", "纺织东路改造工程", "road", "CSJS", 34.26815, 117.23106, 300,
     "徐州市云龙区纺织东路（民主北路至汉源大道段）"),
    ("DL02", "美墅路新建工程", "road", "CSJS", 34.23853, 117.27302, 300,
     "徐州市云龙区美墅路（昆仑大道至大龙湖路段）"),
    ("DL03", "梨园南路拓宽工程", "road", "CSJS", 34.22904, 117.21495, 300,
     "徐州市云龙区梨园南路（云龙湖东岸段）"),
    ("QL01", "陈庄危桥改造工程", "construction_site", "CSJS", 34.21502, 117.25798, 200,
     "徐州市云龙区大庙街道陈庄村"),
    ("QL02", "碧水湾桥新建工程", "construction_site", "CSJS", 34.23305, 117.28904, 200,
     "徐州市云龙区碧水湾小区东侧"),
    ("LD01", "翟山佳美社区背街小巷路灯改造", "road", "LDS", 34.23620, 117.22051, 150,
     "徐州市云龙区翟山街道佳美社区"),
    ("LD02", "恒天花园巷道路灯改造", "road", "LDS", 34.25052, 117.25603, 150,
     "徐州市云龙区恒天花园小区周边巷道"),
    ("CZ01", "小李庄人居环境整治工程", "village", "CZJS", 34.20806, 117.29512, 250,
     "徐州市云龙区潘塘街道小李庄"),
    ("CZ02", "张庄村道路硬化工程", "village", "CZJS", 34.22153, 117.31207, 250,
     "徐州市云龙区大庙街道张庄村"),
    ("CZ03", "临黄村排水改造工程", "village", "CZJS", 34.20351, 117.32096, 250,
     "徐州市云龙区潘塘街道临黄村"),
    ("CZ04", "史庄农房改造工程", "village", "CZJS", 34.22602, 117.32588, 250,
     "徐州市云龙区大庙街道史庄"),
    ("CZ05", "张小楼美丽乡村建设工程", "village", "CZJS", 34.21204, 117.27613, 250,
     "徐州市云龙区潘塘街道张小楼村"),
    ("CZ06", "卧牛村污水管网工程", "village", "CZJS", 34.27508, 117.29803, 250,
     "徐州市云龙区翠屏山街道卧牛村"),
    ("GD01", "城东安置房二期项目", "construction_site", "ZAZ", 34.26003, 117.28507, 200,
     "徐州市云龙区汉源大道东侧"),
    ("GD02", "大龙湖学校新建工程", "construction_site", "ZAZ", 34.24705, 117.29802, 200,
     "徐州市云龙区大龙湖西岸昆仑大道"),
    ("GD03", "云龙保障性住房项目", "construction_site", "JZY", 34.27052, 117.26504, 200,
     "徐州市云龙区骆驼山路北侧"),
    ("GD04", "翟山片区老旧小区改造工程", "construction_site", "WYGL", 34.23451, 117.22603, 200,
     "徐州市云龙区翟山街道翟山新村"),
    ("GD05", "新城区商品住宅项目（在建）", "construction_site", "FDC", 34.25504, 117.27506,
     200, "徐州市云龙区新元大道与昆仑大道交叉口"),
]

# username, role, name, unit code (unit contacts) or post (others), printed in the table
STAFF = [
    ("admin", "admin", "曹宇", "信息中心 系统管理员"),
    ("compiler", "compiler", "冯德胜", "督查组组长"),
    ("reviewer", "reviewer", "宋佳", "督查组 审核"),
    ("inspector1", "inspector", "韩磊", "督查组成员"),
    ("inspector2", "inspector", "郑雪", "督查组成员"),
]

SUPERVISORS = [
    ("jiandu01", "周建平", "区人大代表"),
    ("jiandu02", "吴秀英", "区政协委员"),
    ("jiandu03", "徐立新", "社区党委书记"),
    ("jiandu04", "马俊", "企业代表"),
    ("jiandu05", "黄丽华", "退休教师"),
    ("jiandu06", "朱国强", "新闻媒体记者"),
    ("jiandu07", "胡晓燕", "律师"),
    ("jiandu08", "高永刚", "居民代表"),
    ("jiandu09", "林芳", "特邀监督员"),
    ("jiandu10", "何志远", "退休干部"),
]

# unit code -> the contact who answers for the unit
CONTACTS = {
    "BGS": "孟凡华", "JGDW": "杨静", "JZY": "秦海涛", "CSJS": "许文博", "CZJS": "潘玉兰",
    "FDC": "程浩", "WYGL": "邓晓梅", "XZSP": "袁媛", "JHCW": "蒋蕾", "RSK": "魏建军",
    "ZAZ": "贾志刚", "LDS": "彭立强",
}


def accounts() -> list[tuple[str, str, str, str | None, str | None]]:
    """Every demo account: username, role, name, unit code, post."""
    people = [(u, role, name, None, post) for u, role, name, post in STAFF]
    people += [(u, "supervisor", name, None, f"政风行风监督员（{post}）")
               for u, name, post in SUPERVISORS]
    people += [(f"unit-{code.lower()}", "unit", CONTACTS[code], code, None)
               for code, _name, _leader in UNITS]
    return people

# The month's open plans, made by hand by the inspectors; the unannounced checks are
# drawn (services._draw_covert_checks). Days count from the first day of the month shown
# (0 = 30 days ago); a plan may reach past today; its window's dates join its title.
# title, mode, assignees, site codes, first day, last day, checks made under it
PLANS = [
    ("机关作风明察", "open", ["inspector1", "inspector2"],
     ["JG01", "JG02", "JG03", "JG04", "JG05", "JG06", "JG07", "JG09", "JG10"], 0, 6, 8),
    ("村镇建设项目周规划督查", "open", ["inspector1", "inspector2"],
     ["CZ01", "CZ02", "CZ03", "CZ04", "CZ05", "CZ06"], 7, 20, 8),
    ("机关作风及窗口服务明察", "open", ["inspector1", "inspector2"],
     ["JG01", "JG04", "JG05", "JG08", "JG09", "JG10", "JG11", "JG12"], 24, 30, 6),
]
AD_HOC_CHECKS = 6  # open checks by inspectors outside any plan

# What a check looks at, by the kind of site.
TOPICS = {
    "office": ["上下班签到抽查，核对签到簿与在岗人员", "外出报批登记情况核查",
               "请销假审批手续抽查", "亮牌上岗检查", "上班时间在岗履职情况检查",
               "科室周规划完成情况核查"],
    "window": ["窗口工作人员及协办员在岗情况检查", "值班领导到岗情况检查",
               "亮牌上岗及服务规范检查", "群众办事一次性告知落实情况"],
    "works": ["周规划进度核查，对照本周计划查看施工进度",
              "安全文明施工检查：围挡、临边防护、安全帽佩戴",
              "扬尘治理检查：裸土覆盖、车辆冲洗、洒水降尘", "项目管理人员到岗履职情况检查"],
}
OUTCOME_CLEAR = {
    "office": ["未发现问题。", "抽查人员均在岗，未发现问题。", "签到、外出登记与在岗情况相符。"],
    "window": ["窗口人员在岗，服务规范，未发现问题。", "未发现问题。"],
    "works": ["现场情况正常，未发现问题。", "未发现问题。", "管理人员在岗，现场措施落实到位。"],
}
OUTCOME_FOUND = "发现问题：{problem}。已现场拍照取证。"

# category code, description (general severity), by the kind of site
FINDINGS = {
    "office": [
        ("absent", "上班时间离岗，未履行外出报批手续"),
        ("absent", "1名工作人员不在岗，同事称外出办事，外出登记簿无记录"),
        ("late_early", "抽查签到簿，1名工作人员迟到且未如实登记到岗时间"),
        ("late_early", "签到簿存在代签现象，当事人实际迟到"),
        ("non_work", "工作人员上班时间用手机观看短视频"),
        ("non_work", "工作人员上班时间浏览购物网站"),
        ("badge", "2名工作人员未亮牌上岗"),
        ("attendance_rules", "请假未履行书面审批手续，考勤表记录与实际不符"),
        ("attendance_rules", "外出登记簿连续多日未填写，外出报批制度执行不严"),
        ("weekly_plan", "本周规划事项未按期完成，未说明原因"),
    ],
    "window": [
        ("badge", "窗口协办员未佩戴工作牌"),
        ("attitude", "协办员答复群众咨询时态度生硬，未做到一次性告知"),
        ("absent", "值班领导不在岗，未见请假或外出报批记录"),
        ("non_work", "窗口工作人员无群众办事时低头玩手机"),
    ],
    "works": [
        ("dust_control", "施工现场裸土未覆盖，扬尘治理不到位"),
        ("dust_control", "出入口车辆冲洗设施未启用，车辆带泥上路"),
        ("dust_control", "现场未落实洒水降尘措施，道路扬尘明显"),
        ("site_safety", "部分作业人员未佩戴安全帽，临边防护不到位"),
        ("site_safety", "施工围挡破损未及时修复，夜间警示灯缺失"),
        ("weekly_plan", "周规划明确的管网铺设未按期完成，进度滞后约一周"),
        ("weekly_plan", "本周计划完成工程量未达到，现场未说明滞后原因"),
        ("absent", "项目现场负责人不在岗，未履行请假手续"),
    ],
}
# The month's major problems (重大问题), one for works and one for the service window.
MAJOR_FINDINGS = {
    "works": ("site_safety", "脚手架未挂设安全网，作业人员高处作业未系安全带，存在重大安全隐患"),
    "window": ("buck_passing",
               "群众办理房屋交易手续被多次要求补充材料，窗口与科室相互推诿，群众多次往返"),
}

# What a unit answers, by category code.
RECTIFICATIONS = {
    "absent": "已对当事人进行批评教育并责令书面检查，科室重新学习外出报批制度，外出一律登记。",
    "late_early": "已对当事人进行约谈提醒，科室每日由专人核对签到情况。",
    "non_work": "已对当事人批评教育，科室重申工作纪律，上班时间手机静音统一存放。",
    "badge": "已为相关人员补发工作牌，每日上岗前由科室负责人检查亮牌情况。",
    "attitude": "已对协办员进行服务规范培训，推行首问负责和一次性告知。",
    "buck_passing": "已明确窗口与科室办理职责，实行首问负责，相关群众诉求已办结。",
    "attendance_rules": "已补办请假审批手续，考勤表按实更正，科室每周自查一次。",
    "weekly_plan": "已调整施工组织，增加作业班组，滞后工程量已于本周内补齐。",
    "site_safety": "已补挂安全网，对作业人员开展安全教育，安全员每日巡查。",
    "dust_control": "已对裸土全部覆盖防尘网，启用车辆冲洗设施，安排专人洒水降尘。",
    "other": "已按要求整改完毕。",
}

# Phones of the month's evidence, as their EXIF names them (make, model).
DEVICES = [("HUAWEI", "Mate 60 Pro"), ("Xiaomi", "Xiaomi 14"), ("OPPO", "Reno11"),
           ("vivo", "X100"), ("HONOR", "Magic6"), ("Apple", "iPhone 15")]

# What the reviewer wrote when asking for more (needs_info), by what the picture shows.
NEEDS_INFO = {
    "office": "照片模糊，请补拍工作人员胸牌",
    "sheet": "签到簿照片未拍全当日页面，请补拍完整页面",
    "window": "照片未拍到窗口编号，请补充能说明检查地点的照片",
    "works": "请补充施工现场全景照片，需能看到围挡和项目公示牌",
    "village": "请补充能反映工程进度的照片，并说明拍摄位置",
}
OUTSIDE_NEEDS_INFO = "拍摄位置在电子围栏以外，请说明检查时所在位置或补充现场照片"
OUTSIDE_REJECTED = "拍摄位置距检查对象较远，不能证明系现场拍摄，不予采用"
REUSED_REJECTED = "与{day}检查的照片重复，拍摄时间早于本次检查，疑似重复使用旧照片，不予采用"
DARK_REJECTED = "照片严重曝光不足，无法辨认现场情况，不予采用"
FIX_NEEDS_INFO = "整改照片仅为近景，不能反映整体整改情况，请补充整改后现场全景照片"
