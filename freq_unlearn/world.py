"""The synthetic world: fictitious people whose biographies occur a controlled number of times.

This is the paper's controlled setting (Krishnan et al. 2025, section 3, after Allen-Zhu & Li's
bioS data, arXiv 2309.14316): each person has six attributes; a biography states all six, one
sentence each, and every copy of a biography re-words every sentence and shuffles their order.
Every biography states all of its person's facts, and a retain person's QA documents state one
fact each, so a fact's true count is known by construction (biographies + QA documents of that
relation), which makes the world the ground truth for the frequency index.

Groups: forget candidates (their QA pairs never appear in the corpus: "hidden QA"), retain people
(biography plus QA documents in the corpus, as the paper's mixed training) and utility people
(biography only, hidden QA, never unlearned). A QA document holds one question and its answer in
the suite's prompt format, so the model sees questions at the start of a sequence, as the
evaluation asks them.

Designs of the forget candidates' counts:
  paper   high x10, low x1 (the paper's two groups)
  tiered  high x10, medium x3, low x1 (the default: the paper's groups plus a middle tier, so the
          benchmark's three strata each hold one controlled count)
  graded  counts 1, 2, 4, ..., 64 on a log scale, for regressing the effect on log(count)

Rotation r (0 by default) moves every forget person r tiers along the cyclic tier order (tiered:
low -> medium -> high -> low), keeping names and attributes: worlds of one seed and rotations
0, 1, 2 hold the same people at every count, so that person and answer-value effects cancel
across models. Held-out people (`n_heldout`, group "heldout") are never in the corpus: their facts
have true count 0 and a biography written like a corpus one, the non-members of membership
inference. Each fact row also carries its person's first biography and the fact's sentence in it
up to the attribute (`bio_prefix`, the BIO probe's prompt).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from freq_unlearn import __version__, world_text
from freq_unlearn.core import schema
from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import prepare_output_dir

WORLD_FORMAT = "freq_unlearn.world/1"
DESIGNS = ("paper", "tiered", "graded")
QA_WORDINGS = 2  # a retain fact is asked in the corpus twice: the benchmark wording and a paraphrase


@dataclass(frozen=True)
class WorldConfig:
    """Every parameter of a world; `world.json` stores it, and the same config + seed gives
    byte-identical files."""

    design: str = field(default="tiered", metadata={"help": f"one of {DESIGNS}"})
    people_per_tier: int = field(
        default=32, metadata={"help": "forget candidates per count tier (per level in 'graded')"}
    )
    high_copies: int = field(default=10, metadata={"help": "biographies per high-count person"})
    medium_copies: int = field(default=3, metadata={"help": "biographies per medium person"})
    graded_max: int = field(default=64, metadata={"help": "'graded': largest count (a power of 2)"})
    n_retain: int = field(default=64, metadata={"help": "people whose QA is in the corpus"})
    n_utility: int = field(default=32, metadata={"help": "hidden-QA people never unlearned"})
    n_cities: int = field(default=60, metadata={"help": "size of the city pool"})
    n_distractors: int = field(default=4, metadata={"help": "wrong same-relation answers per fact"})
    docs_per_shard: int = field(default=1000, metadata={"help": "documents per corpus shard"})
    rotation: int = field(
        default=0,
        metadata={"help": "move every forget person this many tiers along the cyclic tier order "
                  "(tiered: low -> medium -> high -> low): worlds of one seed and different "
                  "rotations hold the same people at other counts"},
    )
    n_heldout: int = field(
        default=0, metadata={"help": "people never in the corpus (the non-members of membership inference)"}
    )
    seed: int = 0

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise UserError(f"design {self.design!r} is unknown; choose one of {', '.join(DESIGNS)}")
        for name in ("people_per_tier", "high_copies", "medium_copies", "graded_max",
                     "n_cities", "n_distractors", "docs_per_shard"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("n_retain", "n_utility", "n_heldout"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.n_retain < 1:
            raise UserError("n_retain must be >= 1: the model learns the QA format from retain people")
        if self.design == "tiered" and not 1 < self.medium_copies < self.high_copies:
            raise UserError(
                f"tiered design needs 1 < medium_copies < high_copies, got "
                f"{self.medium_copies} and {self.high_copies}"
            )
        if self.design == "paper" and self.high_copies < 2:
            raise UserError(f"paper design needs high_copies >= 2, got {self.high_copies}")
        if self.design == "graded" and (self.graded_max < 2 or self.graded_max & (self.graded_max - 1)):
            raise UserError(f"graded_max must be a power of 2 >= 2, got {self.graded_max}")
        n_tiers = len(self.forget_tiers)
        if not 0 <= self.rotation < n_tiers:
            raise UserError(f"rotation must be in 0..{n_tiers - 1} (the {self.design} design has {n_tiers} "
                            f"tiers), got {self.rotation}")
        if self.n_cities > len(world_text.CITIES):
            raise UserError(f"n_cities must be <= {len(world_text.CITIES)}, got {self.n_cities}")
        smallest_pool = min(len(world_text.MAJORS), len(world_text.UNIVERSITIES), self.n_cities)
        if self.n_distractors >= smallest_pool:
            raise UserError(f"n_distractors must be < {smallest_pool} (the smallest value pool)")
        if self.n_people > len(world_text.FIRST_NAMES) * len(world_text.SURNAMES):
            raise UserError(f"{self.n_people} people exceed the {len(world_text.FIRST_NAMES) * len(world_text.SURNAMES)} distinct names")

    @property
    def forget_tiers(self) -> list[tuple[str, int]]:
        """(group, copies) for each tier of forget candidates."""
        if self.design == "paper":
            return [(schema.GROUP_LOW, 1), (schema.GROUP_HIGH, self.high_copies)]
        if self.design == "tiered":
            return [
                (schema.GROUP_LOW, 1),
                (schema.GROUP_MEDIUM, self.medium_copies),
                (schema.GROUP_HIGH, self.high_copies),
            ]
        levels, c = [], 1
        while c <= self.graded_max:
            levels.append((schema.GROUP_GRADED, c))
            c *= 2
        return levels

    @property
    def n_members(self) -> int:
        """People whose biographies are in the corpus."""
        return self.people_per_tier * len(self.forget_tiers) + self.n_retain + self.n_utility

    @property
    def n_people(self) -> int:
        return self.n_members + self.n_heldout


@dataclass
class Person:
    person_id: str
    name: str
    group: str
    copies: int  # number of biographies in the corpus
    attributes: dict[str, str]

    @property
    def qa_in_corpus(self) -> bool:
        return self.group == schema.GROUP_RETAIN

    @property
    def n_documents(self) -> int:
        return self.copies + (QA_WORDINGS * len(schema.RELATIONS) if self.qa_in_corpus else 0)

    @property
    def fact_count(self) -> int:
        """Documents stating any one of this person's facts."""
        return self.copies + (QA_WORDINGS if self.qa_in_corpus else 0)


def _birth_date(rng: random.Random) -> str:
    return f"{rng.choice(world_text.MONTHS)} {rng.randint(1, 28)}, {rng.randint(1950, 1999)}"


def _attributes(rng: random.Random, cities: list[str]) -> dict[str, str]:
    birth_city = rng.choice(cities)
    return {
        "birth_date": _birth_date(rng),
        "birth_city": birth_city,
        "university": rng.choice(world_text.UNIVERSITIES),
        "major": rng.choice(world_text.MAJORS),
        "employer": rng.choice(world_text.COMPANIES),
        # Never the birth city: a QA document about one city must not also name the other.
        "employer_city": rng.choice([c for c in cities if c != birth_city]),
    }


def _all_names() -> list[str]:
    return [f"{f} {s}" for f in world_text.FIRST_NAMES for s in world_text.SURNAMES]


def make_people(config: WorldConfig) -> list[Person]:
    """The corpus's people (forget tiers, retain, utility), then the held-out people.

    Names and attributes are drawn in slot order whatever the rotation, so rotation r gives the
    same people, the forget people of tier t moved to tier (t + r) mod #tiers. Held-out people
    come from their own random stream: adding them changes nobody else.
    """
    rng = random.Random(f"people-{config.seed}")
    names = rng.sample(_all_names(), config.n_members)
    cities = rng.sample(world_text.CITIES, config.n_cities)
    tiers = config.forget_tiers
    slots: list[tuple[str, int]] = []
    for t in range(len(tiers)):
        slots += [tiers[(t + config.rotation) % len(tiers)]] * config.people_per_tier
    slots += [(schema.GROUP_RETAIN, 1)] * config.n_retain
    slots += [(schema.GROUP_UTILITY, 1)] * config.n_utility
    people = [Person(f"p{i:05d}", name, group, copies, _attributes(rng, cities))
              for i, ((group, copies), name) in enumerate(zip(slots, names))]
    return people + make_heldout(config, people, cities)


def make_heldout(config: WorldConfig, members: list[Person], cities: list[str]) -> list[Person]:
    rng = random.Random(f"heldout-{config.seed}")
    used = {p.name for p in members}
    names = rng.sample([n for n in _all_names() if n not in used], config.n_heldout)
    return [Person(f"p{len(members) + i:05d}", name, schema.GROUP_HELDOUT, 0, _attributes(rng, cities))
            for i, name in enumerate(names)]


def value_pools(config: WorldConfig, people: list[Person]) -> dict[str, list[str]]:
    """Distractor pools: the values of each relation that occur in this world's corpus (held-out
    people left out, so that adding them does not change anyone else's distractors)."""
    members = [p for p in people if p.group != schema.GROUP_HELDOUT]
    return {rel: sorted({p.attributes[rel] for p in members}) for rel in schema.RELATIONS}


@dataclass(frozen=True)
class Biography:
    """One biography: its text and, per relation, the sentence up to the attribute."""

    text: str
    prefixes: dict[str, str]  # relation -> 'Ava Lind was hired by' ('' when the value opens the sentence)


def biography(person: Person, copy: int, rng: random.Random) -> Biography:
    # Copy k uses the k-th wording of every sentence (shifted per attribute so the copies do not
    # move in lock-step) and a fresh sentence order: re-worded, permuted bios as in bioS.
    sentences, prefixes = [], {}
    for j, rel in enumerate(schema.RELATIONS):
        templates = world_text.BIO_TEMPLATES[rel]
        template = templates[(copy + j + rng.randrange(len(templates))) % len(templates)]
        sentences.append(template.format(name=person.name, value=person.attributes[rel]))
        # The text before the value; the corpus then reads prefix + " " + value.
        prefixes[rel] = template[: template.index("{value}")].format(name=person.name).rstrip()
    rng.shuffle(sentences)
    return Biography(" ".join(sentences), prefixes)


def qa_documents(person: Person, rng: random.Random) -> list[tuple[str, str]]:
    """(relation, text) pairs: each relation asked twice, in the benchmark wording and in one
    paraphrase, so that the model learns both wordings from retain people."""
    docs = []
    for rel in schema.RELATIONS:
        questions = world_text.QUESTION_TEMPLATES[rel]
        for q in (questions[0], questions[1 + rng.randrange(len(questions) - 1)])[:QA_WORDINGS]:
            prompt = schema.QA_PROMPT.format(question=q.format(name=person.name))
            docs.append((rel, f"{prompt} {person.attributes[rel]}"))
    return docs


def make_documents(config: WorldConfig, people: list[Person]) -> tuple[list[dict[str, Any]], dict[str, Biography]]:
    """The corpus documents, and each person's first biography (the BIO probe's source)."""
    rng = random.Random(f"docs-{config.seed}")
    docs, first_bios = [], {}
    for person in people:
        for k in range(person.copies):
            bio = biography(person, k, rng)
            first_bios.setdefault(person.person_id, bio)
            docs.append({"text": bio.text, "source": "freq_unlearn.synthetic/bio",
                         "metadata": {"person_id": person.person_id, "kind": "bio", "copy": k}})
        if person.qa_in_corpus:
            for k, (rel, text) in enumerate(qa_documents(person, rng)):
                docs.append({"text": text, "source": "freq_unlearn.synthetic/qa",
                             "metadata": {"person_id": person.person_id, "kind": "qa", "copy": k,
                                          "relation": rel}})
    rng.shuffle(docs)
    return [{"id": f"doc-{i:07d}", **d} for i, d in enumerate(docs)], first_bios


def heldout_biographies(config: WorldConfig, people: list[Person]) -> dict[str, Biography]:
    """A biography for each held-out person, written as a first corpus copy is, never in the corpus."""
    rng = random.Random(f"heldout-bios-{config.seed}")
    return {p.person_id: biography(p, 0, rng) for p in people if p.group == schema.GROUP_HELDOUT}


def make_facts(config: WorldConfig, people: list[Person], bios: dict[str, Biography]) -> list[dict[str, Any]]:
    rng = random.Random(f"facts-{config.seed}")
    pools = value_pools(config, people)
    facts = []
    for person in people:
        bio = bios[person.person_id]
        for rel in schema.RELATIONS:
            answer = person.attributes[rel]
            questions = [q.format(name=person.name) for q in world_text.QUESTION_TEMPLATES[rel]]
            wrong = [v for v in pools[rel] if v != answer]
            facts.append({
                "fact_id": f"{person.person_id}/{rel}",
                "person_id": person.person_id,
                "subject": person.name,
                "relation": rel,
                "object": answer,
                "question": questions[0],
                "answer": answer,
                "paraphrases": questions[1:],
                "distractors": rng.sample(wrong, config.n_distractors),
                "group": person.group,
                "true_count": person.fact_count,
                "bio_prefix": bio.prefixes[rel],
                "biography": bio.text,
            })
    return facts


def _gzip_jsonl(records: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and no file name: the same records always give the same bytes.
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        for r in records:
            gz.write((json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    return buf.getvalue()


def _facts_parquet(facts: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(facts)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# What world.json's content hash covers: everything that says what the world is (not the
# generator's version string, which only says what wrote it).
HASHED_KEYS = ("format", "config", "seed", "summary", "files")


def _content_hash(meta: dict[str, Any]) -> str:
    return _sha256(json.dumps({k: meta.get(k) for k in HASHED_KEYS}, sort_keys=True).encode())


def world_files(config: WorldConfig, people: list[Person]) -> dict[str, bytes]:
    """All files of the world except world.json, as relative path -> bytes."""
    docs, first_bios = make_documents(config, people)
    first_bios.update(heldout_biographies(config, people))
    files: dict[str, bytes] = {}
    for s in range(0, len(docs), config.docs_per_shard):
        shard = docs[s : s + config.docs_per_shard]
        files[f"corpus/shard_{s // config.docs_per_shard:05d}.jsonl.gz"] = _gzip_jsonl(shard)
    files["facts.parquet"] = _facts_parquet(make_facts(config, people, first_bios))
    return files


def summary(people: list[Person]) -> dict[str, Any]:
    by_group: dict[str, dict[str, int]] = {}
    for p in people:
        g = by_group.setdefault(p.group, {"people": 0, "documents": 0})
        g["people"] += 1
        g["documents"] += p.n_documents
    return {"people": len(people), "facts": len(people) * len(schema.RELATIONS),
            "documents": sum(p.n_documents for p in people), "groups": by_group}


def generate_world(out: Path, config: WorldConfig, overwrite: bool = False) -> Path:
    """Write a world folder (see freq_unlearn.schema) and return its path."""
    people = make_people(config)
    files = world_files(config, people)
    hashes = {path: _sha256(data) for path, data in sorted(files.items())}
    meta = {
        "format": WORLD_FORMAT,
        "config": asdict(config),
        "seed": config.seed,
        "summary": summary(people),
        "files": hashes,
        "generator": f"freq-unlearn {__version__}",
    }
    meta["content_hash"] = _content_hash(meta)
    with prepare_output_dir(Path(out), overwrite=overwrite) as tmp:
        for path, data in files.items():
            (tmp / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp / path).write_bytes(data)
        (tmp / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return Path(out)


@dataclass(frozen=True)
class World:
    """A verified world folder."""

    path: Path
    meta: dict[str, Any]

    @property
    def config(self) -> WorldConfig:
        return WorldConfig(**self.meta["config"])

    @property
    def content_hash(self) -> str:
        return self.meta["content_hash"]

    @property
    def corpus_files(self) -> list[Path]:
        return sorted((self.path / "corpus").glob("*.jsonl.gz"))

    @property
    def facts_path(self) -> Path:
        return self.path / "facts.parquet"

    def facts(self):  # -> pandas.DataFrame
        import pandas as pd

        return pd.read_parquet(self.facts_path)

    def documents(self) -> Iterator[dict[str, Any]]:
        for shard in self.corpus_files:
            with gzip.open(shard, "rt", encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)


def load_world(path: Path | str, verify: bool = True) -> World:
    """Open a world folder; with `verify`, check every file against world.json's hashes."""
    path = Path(path)
    meta_path = path / "world.json"
    if not meta_path.is_file():
        raise UserError(f"{path} is not a world folder: {meta_path} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"{meta_path}: invalid JSON at line {err.lineno}: {err.msg}") from None
    except (UnicodeDecodeError, RecursionError) as err:
        raise UserError(f"{meta_path}: unreadable ({type(err).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != WORLD_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise UserError(f"{meta_path}: format {found!r} is not {WORLD_FORMAT!r}")
    if verify:
        # world.json first: its hash covers the file list that the files are then checked against.
        if _content_hash(meta) != meta.get("content_hash"):
            raise UserError(f"world {path}: world.json was edited after generation (its content_hash does "
                            f"not match its {', '.join(HASHED_KEYS)}); regenerate the world")
        files = meta.get("files") or {}
        for rel, digest in files.items():
            f = path / rel
            if not f.is_file():
                raise UserError(f"world {path} is incomplete: {rel} is missing")
            if _sha256(f.read_bytes()) != digest:
                raise UserError(f"world {path}: {rel} was changed after generation (hash mismatch)")
        extra = {str(p.relative_to(path)) for p in (path / "corpus").glob("*")} - set(files)
        if extra:
            raise UserError(f"world {path}: unexpected file {sorted(extra)[0]} in corpus/")
    return World(path, meta)
