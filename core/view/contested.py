"""The ledger's contested claims, as the view shows them: one group of disagreeing claims a JSON line.

A group: ``{"group", <claim head>, "place", "lat", "lon", "date_from", "date_to", "spread", "reason",
"claims": [{"article_id", "outlet", <attribution head>, "speaker", "start", "end", "text", "date", "figures":
[{"text", "start", "end", "value_min", "value_max", "counts"}]}]}``, the heads named by the schema's roles
(``claim_type`` and ``source`` in the default schema); a claim's and a figure's offsets are into the
article, so a figure sits at ``figure.start - claim.start`` in the claim's text. A read group holds the
claim head's label under ``kind`` and each claim the attribution head's under ``attribution``.
"""

from __future__ import annotations

import json
from pathlib import Path

from factattr.config import Roles
from factattr.errors import ViewError


def _need(record: dict, key: str, kinds: tuple, place: str, optional: bool = False):
    value = record.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds) + (" or null" if optional else "")
        raise ViewError(f"{place}: '{key}' must be {names}, got {value!r}; see the ledger's contested-groups format")
    return value


def _speaker(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) and value.strip() else None


def _pieces(claim: dict, figures: list[dict]) -> list[dict]:
    """The claim's text cut into plain and figure pieces, so the figures can be marked."""
    text, spans = claim["text"], []
    for f in figures:
        begin = f["start"] - claim["start"]
        if not (0 <= begin and begin + len(f["text"]) <= len(text) and text[begin:begin + len(f["text"])] == f["text"]):
            begin = text.find(f["text"])  # offsets from another text version: fall back to the figure's words
        if begin >= 0 and all(begin >= e or begin + len(f["text"]) <= s for s, e, _ in spans):
            spans.append((begin, begin + len(f["text"]), f))
    pieces, at = [], 0
    for s, e, f in sorted(spans, key=lambda x: x[0]):
        pieces += [{"text": text[at:s], "figure": None}, {"text": text[s:e], "figure": f}]
        at = e
    return pieces + [{"text": text[at:], "figure": None}]


def _claim(c: object, place: str, roles: Roles) -> dict:
    if not isinstance(c, dict):
        raise ViewError(f"{place}: a claim must be an object, got {type(c).__name__}")
    claim = {"article_id": str(_need(c, "article_id", (str, int), place)), "text": _need(c, "text", (str,), place),
             "attribution": _need(c, roles.attribution, (str,), place), "start": _need(c, "start", (int,), place),
             "end": _need(c, "end", (int,), place), "outlet": _need(c, "outlet", (str,), place, optional=True),
             "date": _need(c, "date", (str,), place, optional=True), "speaker": _speaker(c.get("speaker"))}
    figures = []
    for j, f in enumerate(_need(c, "figures", (list,), place, optional=True) or []):
        where = f"{place}, figure {j}"
        if not isinstance(f, dict):
            raise ViewError(f"{where}: a figure must be an object, got {type(f).__name__}")
        figures.append({"text": _need(f, "text", (str,), where), "start": _need(f, "start", (int,), where),
                        "end": _need(f, "end", (int,), where),
                        "value_min": _need(f, "value_min", (int, float), where, optional=True),
                        "value_max": _need(f, "value_max", (int, float), where, optional=True),
                        "counts": f.get("counts")})
    claim["figures"] = figures
    claim["pieces"] = _pieces(claim, figures)
    return claim


def read_contested(path: str | Path, roles: Roles | None = None) -> list[dict]:
    """The contested groups of a ledger file, largest spread first; ``roles`` name the keys of the claim
    and attribution heads (the default schema's when not given).

    Raises:
        ConfigError: the roles lack the claim or attribution head.
        ViewError: a line is not JSON or a group breaks the format (file, line, group and key named).
    """
    roles = Roles.defaults() if roles is None else roles
    roles.require("attribution", "claim", user="reading the ledger's contested groups")
    path = Path(path)
    groups = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        place = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ViewError(f"{place}: not valid JSON ({exc.msg}); the contested file holds one group a line") from None
        if not isinstance(record, dict):
            raise ViewError(f"{place}: a contested group must be a JSON object")
        group = {"group": _need(record, "group", (int,), place), "kind": _need(record, roles.claim, (str,), place),
                 "place": _need(record, "place", (str,), place, optional=True),
                 "date_from": _need(record, "date_from", (str,), place, optional=True),
                 "date_to": _need(record, "date_to", (str,), place, optional=True),
                 "spread": float(_need(record, "spread", (int, float), place)),
                 "reason": _need(record, "reason", (str,), place)}
        claims = _need(record, "claims", (list,), place)
        if len(claims) < 2:
            raise ViewError(f"{place}: group {group['group']} has {len(claims)} claim(s); a contested group holds at "
                            "least two claims that disagree")
        group["claims"] = [_claim(c, f"{place}: group {group['group']}, claim {i}", roles)
                           for i, c in enumerate(claims)]
        groups.append(group)
    return sorted(groups, key=lambda g: -g["spread"])
