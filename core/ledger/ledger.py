"""The ``Ledger``: claims of many scored articles, as a DataFrame and as .parquet, .csv or .jsonl files."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

from factattr.config import Roles
from factattr.errors import InputError

from .claims import Claim, claims_from_article, ledger_roles
from .contested import Group, contested_groups
from .figures import Figure
from .places import Place, PlaceResolver

FORMATS = (".parquet", ".csv", ".jsonl")


def columns(roles: Roles) -> tuple[str, ...]:
    """The ledger's columns: the attribution and claim columns take their heads' names."""
    return ("article_id", "outlet", "date", "start", "end", "text", roles.attribution, "speaker", roles.claim,
            "figures", "places", "event_date", "event_date_text")


class Ledger:
    """Claims across articles. Build with :meth:`from_results` or :meth:`add`; export with
    :meth:`to_pandas`, :meth:`to_polars` or :meth:`write`; :meth:`contested` groups the disputes.

    ``roles`` (the label schema's :class:`~factattr.config.Roles`, the default schema's when not given) say
    which heads hold who claims and what kind of claim; a schema without them is refused (ConfigError)."""

    def __init__(self, claims: Iterable[Claim] = (), resolver: PlaceResolver | None = None,
                 roles: Roles | None = None):
        self.roles = ledger_roles(roles)
        self.claims: list[Claim] = list(claims)
        self._resolver = resolver

    @property
    def resolver(self) -> PlaceResolver:
        if self._resolver is None:
            self._resolver = PlaceResolver()
        return self._resolver

    def add(self, article_id: str, result: dict, outlet: str | None = None, date: object = None) -> list[Claim]:
        """Add one scored article: ``result`` as ``ArticleResult.to_dict()`` gives it (``sentences``)."""
        if not isinstance(result, dict) or not isinstance(result.get("sentences"), list):
            raise InputError(f"article {article_id!r}: a scored result needs a 'sentences' list "
                             "(ArticleResult.to_dict() or a line of `factattr score --format jsonl`)")
        claims = claims_from_article(article_id, result["sentences"], self.resolver, outlet, date, self.roles)
        self.claims.extend(claims)
        return claims

    @classmethod
    def from_results(cls, records: Iterable[dict], resolver: PlaceResolver | None = None,
                     roles: Roles | None = None) -> "Ledger":
        """A ledger from scored articles: dicts with ``id``, ``sentences`` and optional ``outlet``, ``date``."""
        ledger = cls(resolver=resolver, roles=roles)
        for number, record in enumerate(records):
            article_id = str(record.get("id", f"article-{number}")) if isinstance(record, dict) else f"article-{number}"
            ledger.add(article_id, record, record.get("outlet"), record.get("date"))
        return ledger

    def rows(self) -> list[dict]:
        return [claim.row() for claim in self.claims]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(columns(self.roles)))

    def to_polars(self):
        import polars as pl

        schema = _polars_schema(pl, self.roles)
        return pl.DataFrame(self.rows(), schema=schema, orient="row") if self.claims else pl.DataFrame(schema=schema)

    def contested(self, **options) -> list[Group]:
        return contested_groups(self.claims, **options)

    def write(self, path: str | Path) -> Path:
        """Write the ledger; the format follows the suffix (.parquet, .csv, .jsonl). Atomic."""
        path = Path(path)
        suffix = _suffix(path)
        rows = self.rows()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            atomic_write(path, lambda tmp: pq.write_table(_arrow_table(rows, self.roles), tmp))
        elif suffix == ".csv":
            frame = self.to_pandas()
            for column in ("figures", "places"):
                frame[column] = [json.dumps(v, ensure_ascii=False) for v in frame[column]]
            atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
        else:
            text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return path

    @classmethod
    def read(cls, path: str | Path, roles: Roles | None = None) -> "Ledger":
        """Read a ledger file written by :meth:`write` (with the same ``roles``) back into claims."""
        roles = ledger_roles(roles)
        path = Path(path)
        suffix = _suffix(path)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        elif suffix == ".csv":
            import pandas as pd

            frame = pd.read_csv(path, dtype={"article_id": str, "outlet": str}, keep_default_na=False)
            rows = frame.to_dict("records")
            for row in rows:
                row["figures"], row["places"] = json.loads(row["figures"]), json.loads(row["places"])
        else:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        missing = [c for c in columns(roles) if rows and c not in rows[0]]
        if missing:
            raise InputError(f"{path}: the ledger lacks the column(s) {missing}; it was written with other roles "
                             "(give the config of the schema it was written with)")
        return cls((_claim_from_row(row, roles) for row in rows), roles=roles)


def _suffix(path: Path) -> str:
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"{path}: unknown ledger format {path.suffix!r}; use one of {', '.join(FORMATS)}")
    return path.suffix.lower()


def atomic_write(path: Path, write) -> None:
    """``write(temporary path)`` in the target's directory, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _none(value):
    return None if value in ("", None) or (isinstance(value, float) and value != value) else value


def _claim_from_row(row: dict, roles: Roles) -> Claim:
    day = lambda v: dt.date.fromisoformat(str(v)[:10]) if _none(v) else None  # noqa: E731
    figures = tuple(Figure(**{k: f[k] for k in ("text", "start", "end", "value_min", "value_max", "counts")})
                    for f in row["figures"])
    places = tuple(Place(**p) for p in row["places"])
    return Claim(str(row["article_id"]), _none(row["outlet"]), day(row["date"]), int(row["start"]), int(row["end"]),
                 row["text"], row[roles.attribution], row["speaker"], row[roles.claim], figures, places,
                 day(row["event_date"]), _none(row["event_date_text"]), roles)


def _arrow_table(rows: list[dict], roles: Roles):
    """Rows as an Arrow table with an explicit schema (nested figures and places; empty files keep it)."""
    import pyarrow as pa

    figure = pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                        ("value_min", pa.float64()), ("value_max", pa.float64()), ("counts", pa.string())])
    place = pa.struct([("name", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("geonameid", pa.int64()),
                       ("canonical", pa.string()), ("country", pa.string()), ("lat", pa.float64()),
                       ("lon", pa.float64()), ("kind", pa.string())])
    schema = pa.schema([("article_id", pa.string()), ("outlet", pa.string()), ("date", pa.string()),
                        ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()),
                        (roles.attribution, pa.string()), ("speaker", pa.string()), (roles.claim, pa.string()),
                        ("figures", pa.list_(figure)),
                        ("places", pa.list_(place)), ("event_date", pa.string()), ("event_date_text", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def _polars_schema(pl, roles: Roles) -> dict:
    figure = pl.Struct({"text": pl.String, "start": pl.Int64, "end": pl.Int64, "value_min": pl.Float64,
                        "value_max": pl.Float64, "counts": pl.String})
    place = pl.Struct({"name": pl.String, "start": pl.Int64, "end": pl.Int64, "geonameid": pl.Int64,
                       "canonical": pl.String, "country": pl.String, "lat": pl.Float64, "lon": pl.Float64,
                       "kind": pl.String})
    return {"article_id": pl.String, "outlet": pl.String, "date": pl.String, "start": pl.Int64, "end": pl.Int64,
            "text": pl.String, roles.attribution: pl.String, "speaker": pl.String, roles.claim: pl.String,
            "figures": pl.List(figure), "places": pl.List(place), "event_date": pl.String,
            "event_date_text": pl.String}
