"""The finding categories Mingcha ships with, editable afterwards."""

# code, 中文, English, default severity, default deadline in days
DEFAULTS = [
    ("absent", "脱岗离岗", "Absent from post", "general", 3),
    ("late_early", "迟到早退", "Late arrival or early leave", "general", 3),
    ("non_work", "上班时间玩手机、网购、游戏", "Non-work activity at work", "general", 3),
    ("badge", "未亮牌上岗", "Badge not shown", "general", 1),
    ("attitude", "服务态度", "Attitude to the public", "general", 7),
    ("buck_passing", "推诿扯皮", "Buck-passing", "major", 7),
    ("attendance_rules", "考勤、请销假、外出报批制度执行", "Attendance or leave rules broken",
     "general", 7),
    ("weekly_plan", "周规划未按期完成", "Weekly plan behind schedule", "general", 14),
    ("site_safety", "安全文明施工", "Site safety", "major", 7),
    ("dust_control", "扬尘治理", "Dust control", "general", 3),
    ("other", "其他", "Other", "general", 7),
]
