"""Word lists the guard's rules read: census names, and the words that are never identifiers.

Person names come from the US Census 1990 name files (5,494 first names, 88,799 surnames) as
shipped in the ``names`` package (MIT; the census data is public domain). They are read once,
lazily, into sets of lower-case names. Everything else here is small and about *not*
flagging: function words, the field's vocabulary (Med-Peds, Step, Level), months, weekdays,
holidays (dates, not names), languages and eponymous diseases ("Down syndrome").
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final


def _split(words: str) -> list[str]:
    """A word list written as text (easier to read and edit than a list of strings)."""
    return words.split()


@functools.cache
def first_names() -> frozenset[str]:
    return _census("dist.male.first") | _census("dist.female.first")


@functools.cache
def last_names() -> frozenset[str]:
    return _census("dist.all.last")


def _census(filename: str) -> frozenset[str]:
    try:
        text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        # Without the package the rules still work on capitalisation and context alone.
        return frozenset()
    return frozenset(line.split(maxsplit=1)[0].lower() for line in text.splitlines() if line)


MONTHS: Final = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
MONTH_ABBREV: Final = "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
WEEKDAYS: Final = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
HOLIDAYS: Final = (
    r"christmas(?:\s+eve|\s+day)?|new\s+year'?s(?:\s+eve|\s+day)?|thanksgiving|halloween|easter"
    r"|labor\s+day|memorial\s+day|independence\s+day|the\s+fourth\s+of\s+july"
    r"|valentine'?s\s+day|mother'?s\s+day|father'?s\s+day|hanukkah|ramadan|eid|diwali"
)
UNITS: Final = (
    "zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    "|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
)
TENS: Final = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
ORDINALS: Final = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    "|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
    "|thirtieth"
)
DIGIT_WORDS: Final = frozenset(_split("zero oh o one two three four five six seven eight nine"))
DIGIT_VALUE: Final = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip

# Titles that introduce a person's name ("Dr. Okafor", "mister delgado", "Nurse Jackie").
TITLES: Final = frozenset(
    _split("dr doctor mr mrs ms mx miss mister missus nurse prof professor sister father")
)
# Words after which a lower-case census first name is taken as a name ("daughter lucia").
NAME_CUES: Final = frozenset(
    _split("""named called daughter son mom mother mum dad father aunt uncle grandmother grandma
    grandfather grandpa sister brother wife husband cousin niece nephew partner saw met
    discharged followed admitted presented resident attending worker manager intern fellow
    pharmacist therapist chaplain coordinator interpreter teacher friend boy girl baby kid
    grandson granddaughter toddler infant teen teenager patient pt""")
)
# After these, a lower-case word from either census list is taken as a name even when it is
# not a census first name ("this kid mateo"): they introduce a person, not a thing.
STRONG_NAME_CUES: Final = frozenset(
    _split("""named called kid boy girl baby grandson granddaughter toddler infant teen
    teenager patient pt daughter son""")
)
# Census first names that are also everyday English words: never a name on their own in
# lower case ("hope was what kept me going").
NOT_NAMES: Final = frozenset(
    _split("""hope grace faith joy love june may will mark bill art rose chance guy major
    sterling honor patience charity trust summer autumn winter dawn april august ray
    rich frank pat sue don jack earl carol christian sunny star page lane wade
    miles bob dale gene guy harmony hunter king lee lou mason pearl ruby ivy iris
    holly heather violet olive amber crystal destiny angel unique precious""")
)
# Letters as initials that are titles or units, not a person ("U.S.", "M.D.", "a.m.").
NOT_INITIALS: Final = frozenset(
    _split("""us md do rn np pa am pm er or iv bs ms ba ma pt ot dc ed icu nicu picu uk la ny
    ok tv gi ent ob gyn ems cpr ct mri ekg ecg ada dnr id dob mrn ssn cf hiv adhd asd uti
    rsv copd chf dka cps""")
)
# After these, a sentence-initial capitalised word that is not a common word is a name
# ("Nasir was only 4"): a sentence does not start with an unknown word and a verb otherwise.
NAME_VERBS: Final = frozenset(
    _split("""was had is has came went told asked needed wanted lived died kept refused
    called taught showed helped said loved hated cried laughed""")
)
# In lower-case (recognizer) text, a census first name at the start of a clause before one of
# these is a name ("benjamin turned eighteen", "and lucia asked me").
LOWER_NAME_VERBS: Final = NAME_VERBS | frozenset(
    _split("""turned would could did got spent started stopped ran walked smiled looked
    wrote texted brought gave wanted finally never always still just""")
)
# Words before "doctor"/"nurse" that make it the job, not a title ("a doctor matters").
DETERMINERS: Final = frozenset(
    _split("a an the my your our his her their its this that every any adult primary family")
)
# US states and regions: places, whatever comes before them.
REGIONS: Final = frozenset(
    _split("""alabama alaska arizona arkansas california colorado connecticut delaware florida
    georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
    massachusetts michigan minnesota mississippi missouri montana nebraska nevada hampshire
    jersey mexico york carolina dakota ohio oklahoma oregon pennsylvania rhode tennessee texas
    utah vermont virginia washington wisconsin wyoming midwest northeast southeast southwest
    northwest caribbean appalachia""")
)
# A capitalised group ending in one of these is a place or institution.
PLACE_SUFFIXES: Final = frozenset(
    _split("""hospital hospitals clinic clinics center centre general health infirmary institute
    university college school academy street st avenue ave road rd boulevard blvd drive
    lane way county memorial medical children childrens pavilion campus""")
)
# Words that come before a place name ("in Akron", "from Toledo", "at Fairview").
PLACE_CUES: Final = frozenset(_split("at in from to near outside"))

_FUNCTION_WORDS = _split("""a about above after again against all also always am an and any are as
at back be because been before being below between both but by can could did do does doing
done down during each either else even ever every few for from further get got had has have
having he her here hers herself him himself his how i if in into is it its itself just least
less like made make many may me might more most much must my myself never new next no nor not
now of off often on once one only or other our ours ourselves out over own per please quite
rather really same she should since so some still such than that the their theirs them
themselves then there these they this those though through thus to too toward under until up
upon us very was we were what when where whether which while who whom whose why will with
within without would yet you your yours yourself um uh oh okay ok yes yeah well hi hello
thanks thank dear sir madam let lets say said says saying tell told ask asked asking think
thought know knew known see seen saw come came go went gone take took taken give gave given
keep kept want wanted need needed feel felt try tried call called work worked learn learned
still first last next early late later soon today tonight tomorrow yesterday morning
evening night week weekend month year years day days time times""")
_FIELD_WORDS = _split("""med peds med-peds medicine pediatrics pediatric medicine-pediatrics internal
family surgery psychiatry emergency step level ck cs match matched soap eras nrmp usmle
comlex pgy pgy-1 sub-i sub-internship intern residency resident residents fellowship program
programs attending attendings faculty dean mentor advisor chief clerkship rotation rotations
clinic hospital ward wards unit icu picu nicu ed er or team teamwork qi research abstract
poster personal statement letters interview interviews applicant application cycle
transition continuity adult adults child children kids patient patients family families
english spanish arabic french somali mandarin chinese vietnamese russian portuguese hindi
urdu korean japanese german italian haitian creole american african asian latino hispanic
black white god lord people good great best thanks x-ray medical nursing graduate high middle
state public local community summer young long short camp story man woman boy girl rose mark
bill art guy sue don jack frank pat ray rich bob chance price medicaid medicare tricare
insurance foster mom dad mum grandma grandpa aunt uncle""")
# Diseases and signs named after people: "Down syndrome" is not a person.
EPONYMS: Final = frozenset(
    _split("""down duchenne becker crohn crohns kawasaki hodgkin hodgkins turner marfan tourette
    asperger addison cushing graves hashimoto parkinson parkinsons alzheimer alzheimers
    huntington wilms ewing tay sachs prader willi angelman williams klinefelter noonan
    guillain barre bell bells apgar glasgow heimlich""")
)
_MONTH_AND_DAY_WORDS = (
    MONTHS.split("|")
    + WEEKDAYS.split("|")
    + _split(
        "christmas eve thanksgiving halloween easter labor memorial independence valentine "
        "valentines mother mothers father fathers hanukkah ramadan eid diwali new years"
    )
)

#: Words that are never a name on their own (lower case).
COMMON: Final = frozenset(_FUNCTION_WORDS + _FIELD_WORDS + _MONTH_AND_DAY_WORDS) | EPONYMS | TITLES
