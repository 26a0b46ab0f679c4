"""The ``infini-gram-api`` backend: counts from the public infini-gram API (https://infini-gram.io).

Krishnan et al. (2025) took their Dolma v1.7 counts from this API: a JSON POST
``{"index": "v4_dolma-v1_7_llama", "query_type": "count", "query": "A AND B"}``, summing the
``count`` over four casings (``--casing paper``). The API's "A AND B" is a CNF count, not a
document count (see ``infinigram_local.py``), and matches token sequences of the index's
tokenizer, so word boundaries are token boundaries. ``subject_count`` / ``object_count`` are the
API's occurrence counts of the subject / object alone. Aliases join a clause with ``OR``.

Requests are retried with exponential backoff on connection errors, timeouts, HTTP 429 and 5xx;
after the last try the run stops with one line saying the API is unreachable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from freq_unlearn.core.errors import UserError

from .counts_table import counts_frame
from .matching import build_term_index
from .options import MatchOptions, OptionError

DEFAULT_API_URL = "https://api.infini-gram.io/"
DEFAULT_API_INDEX = "v4_dolma-v1_7_llama"
RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ApiOptions:
    """Options of the `infini-gram-api` backend (its only mode is ``cnf``: the API's "A AND B").

    Attributes:
        url: the endpoint (default the public API).
        index: the index name (default ``v4_dolma-v1_7_llama``, Dolma v1.7, the paper's).
        retries: tries per query before giving up (default 5).
        backoff_s: first wait between tries; doubled after each (default 1.0).
    """

    url: str = DEFAULT_API_URL
    index: str = DEFAULT_API_INDEX
    retries: int = 5
    backoff_s: float = 1.0

    def __post_init__(self) -> None:
        if self.retries < 1:
            raise OptionError(f"retries must be >= 1, got {self.retries}")
        if not self.backoff_s >= 0:
            raise OptionError(f"backoff_s must be >= 0, got {self.backoff_s}")


class InfiniGramAPI:
    """A small client for the API's ``count`` queries, with retries and a per-run cache."""

    def __init__(self, url: str = DEFAULT_API_URL, index: str = DEFAULT_API_INDEX, retries: int = 5,
                 backoff_s: float = 1.0, timeout_s: float = 30.0):
        import requests

        self.url, self.index = url, index
        self.retries, self.backoff_s, self.timeout_s = retries, backoff_s, timeout_s
        self.session = requests.Session()
        self.cache: dict[str, tuple[int, bool]] = {}
        self.requests_sent = 0

    def count(self, query: str) -> tuple[int, bool]:
        """(count, approximate) of a query such as ``"Ada Koss AND Brno"``."""
        import requests

        if query in self.cache:
            return self.cache[query]
        payload = {"index": self.index, "query_type": "count", "query": query}
        problem = ""
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                self.requests_sent += 1
                response = self.session.post(self.url, json=payload, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as err:
                problem = type(err).__name__
                continue
            if response.status_code in RETRY_STATUS:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise UserError(f"infini-gram API {self.url}: HTTP {response.status_code} for query {query!r}")
            try:
                data = response.json()
            except ValueError:
                raise UserError(f"infini-gram API {self.url}: answer is not JSON for query {query!r}") from None
            if "error" in data:
                raise UserError(f"infini-gram API {self.url}: {data['error']} (query {query!r})")
            result = (int(data["count"]), bool(data.get("approx", False)))
            self.cache[query] = result
            return result
        raise UserError(
            f"infini-gram API {self.url} unreachable after {self.retries} tries ({problem}); "
            "offline? count with a local index (--backend infini-gram) or --backend scan instead"
        )


def count_with_api(facts: pd.DataFrame, match: MatchOptions, options: ApiOptions,
                   progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Count through the API; returns the counts table and its backend-specific provenance."""
    from tqdm import tqdm

    if match.casing == "insensitive":
        raise UserError("the infini-gram API matches case-sensitively: use --casing sensitive or paper")
    terms = build_term_index(facts, match)
    clause = [" OR ".join(forms) for forms in terms.forms_of_entities()]
    client = InfiniGramAPI(options.url, options.index, retries=options.retries, backoff_s=options.backoff_s)
    entity = [client.count(c) for c in tqdm(clause, desc="API: subjects and objects", disable=not progress)]
    pair = [client.count(f"{clause[s]} AND {clause[o]}")
            for s, o in tqdm(terms.pairs, desc="API: A AND B", disable=not progress)]
    count, subj, obj = terms.fact_totals([c for c, _ in entity], [c for c, _ in pair])
    approx = [any(pair[p][1] or entity[terms.pairs[p][0]][1] or entity[terms.pairs[p][1]][1] for p in ids)
              for ids in terms.fact_pairs]
    extra = {
        "mode": "cnf",
        "api_url": options.url,
        "api_index": options.index,
        "api_requests": client.requests_sent,
        "approximate": any(approx),
        "matching": "token sequences of the API index's tokenizer",
    }
    return counts_frame(facts, count, subj, obj, approximate=approx), extra
