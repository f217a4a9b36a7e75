"""The default time zone, written once: the zone of a school or account that names none."""

# Settings' `default_timezone` starts from it; code that knows the school uses the school's.
DEFAULT_TIMEZONE = "Europe/Moscow"
