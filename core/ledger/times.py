"""Time: the article's date and the event date a sentence states ("on Tuesday", "on Nov. 3").

Candidate expressions are found by pattern; dateparser (a maintained parser) turns each into a date,
relative to the article's date and preferring the past: news reports what happened, so "Tuesday" in an
article of Sunday 5 November is 31 October.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
           r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_EXPRESSION = re.compile(
    rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d\d)?(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}(?:,?\s+(?:19|20)\d\d)?"
    rf"|{_DAYS}|yesterday|today|last\s+night)\b")


def parse_date(value: object) -> dt.date | None:
    """An article date from ISO text ("2017-11-05"), a date or a datetime; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def event_date(sentence: str, article_date: dt.date | None) -> tuple[dt.date | None, str | None]:
    """The first date the sentence states, read relative to the article date: (date, the words)."""
    import dateparser

    base = dt.datetime.combine(article_date, dt.time(12)) if article_date else None
    for match in _EXPRESSION.finditer(sentence):
        words = match.group()
        if base is None and not re.search(r"(?:19|20)\d\d", words):
            continue  # a weekday or a day without year means nothing without the article's date
        settings = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
        if base:
            settings["RELATIVE_BASE"] = base
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateparser warns about pytz/regex internals it uses
            parsed = dateparser.parse(words, languages=["en"], settings=settings)
        if parsed:
            return parsed.date(), words
    return None, None
