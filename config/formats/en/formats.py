"""English: 24-hour times, as the members' Chinese pages and the schedules they follow use."""

TIME_FORMAT = "H:i"  # 09:30, 00:00 (Django's English default says "9:30 a.m.", "midnight")
DATETIME_FORMAT = "N j, Y, H:i"  # Dec. 7, 2026, 09:30
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
