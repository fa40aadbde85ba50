"""The project's date and time formats per language (``FORMAT_MODULE_PATH``).

Each module overrides only what differs from Django's own formats for that language;
templates name a format (``date:"MONTH_DAY_FORMAT"``, ``time:"TIME_FORMAT"``) and never
write one, so a date reads right in whichever language the member uses.
"""
