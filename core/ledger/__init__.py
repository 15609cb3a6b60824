"""The claims ledger: who claimed what, where and when, across a collection of scored articles.

``Ledger.from_results(records)`` builds it from scored articles (``ArticleResult.to_dict()`` with ``id``,
and optional ``outlet`` and ``date``); ``to_pandas()``, ``to_polars()`` and ``write(path)`` export it;
``contested()`` groups the claims that disagree.
"""

from .claims import Claim, claims_from_article
from .contested import Group, contested_groups
from .figures import Figure, extract_figures
from .ledger import Ledger
from .places import Place, PlaceResolver
from .times import event_date

__all__ = ["Claim", "Figure", "Group", "Ledger", "Place", "PlaceResolver", "claims_from_article", "contested_groups",
           "event_date", "extract_figures"]
