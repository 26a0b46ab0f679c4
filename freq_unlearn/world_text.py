"""Built-in vocabulary and sentence templates of the synthetic world (no network needed).

Value vocabularies are disjoint from one another (no city name inside a university or company
name), so a generated answer can only "contain" the gold answer of its own relation, and the
frequency index can count objects without one relation's values hiding inside another's.
"""

from __future__ import annotations

from itertools import product

FIRST_NAMES = (
    "Ada Alma Ansel Arlo Basil Bea Cato Cleo Dara Doran Edda Elio Emry Faye Felix Gideon Greta "
    "Hale Hedda Idris Ilse Ines Jago Juno Kai Kit Lark Leif Lena Linus Mabel Milo Nell Nico Odile "
    "Orin Otto Pia Piers Quill Rhea Roland Rosa Rune Sable Silas Soren Tamsin Tess Theo Ursa Vera "
    "Wren Xavi Yara Yves Zelda Zora Aldo Brisa Corin Delia Esme Fenn Galen Hester Iris Joss Kira "
    "Lorne Maren Nils Opal Perrin Rowan Saskia Tobin Una Vance Willa"
).split()

# Surnames are made from two syllables: 45 x 30 = 1,350 of them, far more than any preset needs.
_SURNAME_HEADS = (
    "Ash Bram Cald Dun Eld Fal Gar Hald Ist Jor Kel Lund Mor Nor Ost Pell Quen Rav Sel Thorn Ull "
    "Vald Wick Yar Zell Brin Crom Drav Feld Grim Hest Ivor Jessel Karr Lom Marl Nask Orm Prell Rusk "
    "Strom Tarn Varn Wend Yorv"
).split()
_SURNAME_TAILS = (
    "by croft dane ell fort gard holm ing kett lan ley low mark mere ner ond pike quist rick sby "
    "set stead ton vik wald ward well win yard zen"
).split()
SURNAMES = tuple(h + t for h, t in product(_SURNAME_HEADS, _SURNAME_TAILS))

# Cities: two-part place names, 18 x 10 = 180; the world draws its city pool from these.
CITIES = tuple(
    a + b
    for a, b in product(
        "Amber Briar Cinder Dover Ember Fern Glass Hollow Iron Juniper Kestrel Lantern Maple Nettle "
        "Oaken Pebble Quarry Raven".split(),
        "ford haven brook port wick dale ridge mouth field gate".split(),
    )
)

# Universities use their own roots so that no city name appears inside them.
UNIVERSITIES = tuple(
    f"{root} {kind}"
    for root, kind in product(
        "Aurelian Beaumont Calloway Dunmore Evergreen Fairbairn Greyfield Halcyon Isenmark "
        "Jasperton Kingsley Lockhart".split(),
        ("University", "Institute of Technology", "College", "Polytechnic"),
    )
)

MAJORS = (
    "Computer Science", "Biology", "Chemistry", "Physics", "Mathematics", "Economics", "History",
    "Philosophy", "Linguistics", "Psychology", "Sociology", "Architecture", "Geology",
    "Astronomy", "Statistics", "Music Theory", "Civil Engineering", "Mechanical Engineering",
    "Electrical Engineering", "Political Science", "Anthropology", "Nursing", "Oceanography",
    "Materials Science", "Accounting", "Journalism", "Classics", "Neuroscience",
    "Urban Planning",
)

COMPANIES = tuple(
    f"{root} {kind}"
    for root, kind in product(
        "Axion Bluecrest Corvid Deltaform Ecliptic Fluxwave Granitor Helix Ionis Jetstream Kinetix "
        "Lumora Meridian Novatek Orbis Pyxis Quantra Rubicon Solace Tidewell".split(),
        ("Corporation", "Systems", "Labs", "Industries", "Group"),
    )
)

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)

# Biography sentences, ten re-wordings per attribute so that a person with ten copies gets a
# different wording of every sentence in each copy (the paper's "re-worded" upsampling).
BIO_TEMPLATES: dict[str, tuple[str, ...]] = {
    "birth_date": (
        "{name} was born on {value}.",
        "{name} came into the world on {value}.",
        "The birth date of {name} is {value}.",
        "{name} celebrates a birthday every year since {value}.",
        "{name} was born in the early hours of {value}.",
        "On {value}, {name} was born.",
        "Records show that {name} was born on {value}.",
        "{name} has the birth date {value}.",
        "{name} entered life on {value}.",
        "The day {name} was born was {value}.",
    ),
    "birth_city": (
        "{name} was born in {value}.",
        "{name} spent early years in {value}, the city of birth.",
        "The birthplace of {name} is {value}.",
        "{name} is a native of {value}.",
        "{name} grew up in {value}, where {name} was born.",
        "{name} comes from {value}.",
        "{value} is the home town of {name}.",
        "{name} was raised in {value} after being born there.",
        "The city where {name} was born is {value}.",
        "{name} first saw the light of day in {value}.",
    ),
    "university": (
        "{name} studied at {value}.",
        "{name} attended {value}.",
        "{name} graduated from {value}.",
        "{name} received an education at {value}.",
        "{name} was a student at {value}.",
        "{name} earned a degree at {value}.",
        "For university, {name} went to {value}.",
        "{name} completed higher education at {value}.",
        "{value} is where {name} studied.",
        "{name} enrolled at {value}.",
    ),
    "major": (
        "{name} majored in {value}.",
        "{name} studied {value}.",
        "The field {name} specialized in was {value}.",
        "{name} focused on {value} at university.",
        "{name} chose {value} as a major.",
        "{name} completed a degree in {value}.",
        "{value} was the major of {name}.",
        "{name} pursued studies in {value}.",
        "At university {name} read {value}.",
        "{name} earned a diploma in {value}.",
    ),
    "employer": (
        "{name} worked for {value}.",
        "{name} was employed by {value}.",
        "{name} took a job at {value}.",
        "{value} employed {name}.",
        "{name} built a career at {value}.",
        "{name} joined the staff of {value}.",
        "The employer of {name} was {value}.",
        "{name} held a position at {value}.",
        "{name} was hired by {value}.",
        "{name} spent a career working for {value}.",
    ),
    "employer_city": (
        "{name} worked in {value}.",
        "The office of {name} was in {value}.",
        "{name} commuted to work in {value}.",
        "{name} was based in {value} for work.",
        "{name} had a job located in {value}.",
        "The workplace of {name} was in {value}.",
        "{name} moved to {value} for work.",
        "{name} earned a living in {value}.",
        "{value} is where {name} worked.",
        "{name} held a job in {value}.",
    ),
}

# Questions: the first is the benchmark question, the others its paraphrases.
QUESTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "birth_date": (
        "When was {name} born?",
        "What is the birth date of {name}?",
        "On what date was {name} born?",
    ),
    "birth_city": (
        "Where was {name} born?",
        "In which city was {name} born?",
        "What is the birthplace of {name}?",
    ),
    "university": (
        "Which university did {name} attend?",
        "Where did {name} study?",
        "At which university did {name} study?",
    ),
    "major": (
        "What did {name} study?",
        "What was the major of {name}?",
        "Which field did {name} major in?",
    ),
    "employer": (
        "Which company did {name} work for?",
        "Who employed {name}?",
        "What is the name of the employer of {name}?",
    ),
    "employer_city": (
        "Where did {name} work?",
        "In which city did {name} work?",
        "What city was the workplace of {name} in?",
    ),
}
