"""Options shared by every counting backend: what a match means (see ``matching.py``).

Each backend module holds its own options dataclass (``scan.ScanOptions``,
``infinigram_local.LocalIndexOptions``, ``infinigram_api.ApiOptions``); ``MatchOptions`` is the
part they share, so that a count means the same thing whichever backend made it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from freq_unlearn.core.errors import UserError

CASINGS = ("sensitive", "insensitive", "paper")
NORMALIZATIONS = ("nfkc", "nfc", "none")


class OptionError(UserError, ValueError):
    """Options that do not fit together; one line naming the option."""


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


@dataclass(frozen=True)
class MatchOptions:
    """When a document contains a fact's subject or object (the same rules in every backend).

    Attributes:
        casing: ``sensitive`` (default), ``insensitive`` or ``paper`` (the sum over four casings).
        aliases: count ``subject_aliases`` / ``object_aliases`` as the same entity (default True).
        word_boundaries: a match must not be glued to a word character (default True).
        normalization: Unicode normalisation applied identically to texts and facts before
            matching: ``nfkc`` (default), ``nfc``, or ``none``; except with ``none``, every run of
            whitespace (non-breaking spaces included) also becomes one space.
    """

    casing: str = "sensitive"
    aliases: bool = True
    word_boundaries: bool = True
    normalization: str = "nfkc"

    def __post_init__(self) -> None:
        check_choice("casing", self.casing, CASINGS)
        check_choice("normalization", self.normalization, NORMALIZATIONS)

    def to_json(self) -> dict:
        return asdict(self)
