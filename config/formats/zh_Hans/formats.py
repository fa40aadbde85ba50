"""Simplified Chinese: month and day without a leading zero."""

MONTH_DAY_FORMAT = "n月j日"  # 9月5日 (Django's default writes 09月5日)
