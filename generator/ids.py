"""GB 11643 citizen ID numbers: check digit, construction, planted corruptions.

Sequence-code convention of the synthetic county (it is what makes planted
linkage outcomes provable without a global index):

* ordinary persons have positions 15 and 16 (1-based) in 0-4, position 17 odd for
  men and even for women: 125 codes per birth date and sex;
* a "same_birth" / "ambiguous" corruption puts positions 15 and 16 in 5-9, so no
  single substitution or adjacent transposition can reach an ordinary person.
"""
from __future__ import annotations

import calendar
from datetime import date
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
SEQ_CAPACITY = 125


_W48 = 48 * sum(WEIGHTS)


def check_digit(first17: str) -> str:
    return CHECK[(sum(map(mul, WEIGHTS, first17.encode())) - _W48) % 11]


def is_valid(idn: str) -> bool:
    return len(idn) == 18 and idn[:17].isdigit() and check_digit(idn[:17]) == idn[17]


def seq_code(k: int, male: bool, date_key: int) -> str:
    """k-th code (0..124) of a birth date; scrambled so consecutive persons look random."""
    k = (k * 37 + date_key) % SEQ_CAPACITY
    p15 = k // 25
    p16 = (k // 5) % 5
    p17 = 2 * (k % 5) + (1 if male else 0)
    return f"{p15}{p16}{p17}"


# A run of more than this many households can hold more persons born on one day than one
# address code's sequence codes allow (about 9 M IDs per code over a century of birth dates).
ONE_AREA_HOUSEHOLDS = 1_000_000


def id_areas(county: str, households: int) -> tuple[str, ...]:
    """The address codes (ID positions 1–6) IDs are issued under: the county's own and, for a run
    of more than ONE_AREA_HOUSEHOLDS, other county codes of the same prefecture (people born there),
    one more per million households. Runs up to that size are unchanged: one code."""
    if households <= ONE_AREA_HOUSEHOLDS:
        return (county,)
    others = [f"{county[:4]}{i:02d}" for i in range(1, 100) if f"{county[:4]}{i:02d}" != county]
    return (county, *others[:households // ONE_AREA_HOUSEHOLDS])


def make_id(county: str, birth: date, seq3: str) -> str:
    f17 = f"{county}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq3}"
    return f17 + check_digit(f17)


def to_15(idn: str) -> str:
    """Legacy 15-digit form (only for persons born 19xx)."""
    return idn[:6] + idn[8:17]


def birth_of(idn: str) -> date:
    return date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))


def _plausible(idn: str, areas: tuple[str, ...]) -> bool:
    """Could this string be the valid ID of a person of the synthetic county, whose IDs are issued
    under the address codes `areas` (id_areas)?"""
    if idn[:6] not in areas or not idn[:17].isdigit():
        return False
    try:
        y, m, d = int(idn[6:10]), int(idn[10:12]), int(idn[12:14])
        if y < 1900 or y > 2100:
            return False
        date(y, m, d)
    except ValueError:
        return False
    if idn[14] > "4" or idn[15] > "4":
        return False
    return is_valid(idn)


def neighbours(x: str):
    """All strings one substitution or one adjacent transposition away from x."""
    chars = "0123456789X"
    for i in range(18):
        for c in (chars if i == 17 else chars[:10]):
            if c != x[i]:
                yield x[:i] + c + x[i + 1:]
    for i in range(17):
        if x[i] != x[i + 1]:
            yield x[:i] + x[i + 1] + x[i] + x[i + 2:]


def only_neighbour_is(x: str, true_id: str, areas: tuple[str, ...]) -> bool:
    """True when the only plausible valid ID one edit away from x is true_id."""
    found = False
    for y in neighbours(x):
        if _plausible(y, areas):
            if y != true_id:
                return False
            found = True
    return found


def _wrong_check(first17: str, rng) -> str:
    good = check_digit(first17)
    return rng.choice([c for c in "0123456789X" if c != good])


def corrupt_typo(idn: str, areas: tuple[str, ...], rng) -> str | None:
    """One substitution in the county or birth-date part, linkable to idn only."""
    for _ in range(20):
        p = rng.choice([0, 1, 2, 3, 4, 5, 6, 10, 12])
        if p == 6:
            c = rng.choice("03456789")
        elif p == 10:
            c = rng.choice("23456789")
        elif p == 12:
            c = rng.choice("456789")
        else:
            c = rng.choice([d for d in "0123456789" if d != idn[p]])
        if c == idn[p]:
            continue
        x = idn[:p] + c + idn[p + 1:]
        if not is_valid(x) and only_neighbour_is(x, idn, areas):
            return x
    return None


def corrupt_transposition(idn: str, areas: tuple[str, ...], rng) -> str | None:
    cands = [i for i in range(14) if idn[i] != idn[i + 1]]
    rng.shuffle(cands)
    for i in cands:
        x = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2:]
        if not is_valid(x) and only_neighbour_is(x, idn, areas):
            return x
    return None


def corrupt_same_birth(idn: str, rng) -> str:
    """Same first 14 digits, positions 15-16 moved to 5-9, wrong check digit."""
    f17 = idn[:14] + rng.choice("56789") + rng.choice("56789") + idn[16]
    return f17 + _wrong_check(f17, rng)


def corrupt_unlinkable(idn: str, areas: tuple[str, ...], rng) -> str:
    """Two non-adjacent substitutions in the county code plus a failing check digit, with no
    plausible ID one edit away (with one area code that always holds: one edit restores only one
    of the two digits; with several, one edit could land on another area's code)."""
    while True:
        i, j = sorted(rng.sample(range(6), 2))
        if j - i < 2:
            continue
        a = rng.choice([d for d in "0123456789" if d != idn[i]])
        b = rng.choice([d for d in "0123456789" if d != idn[j]])
        x = list(idn[:17])
        x[i], x[j] = a, b
        f17 = "".join(x)
        x = f17 + _wrong_check(f17, rng)
        if not any(_plausible(y, areas) for y in neighbours(x)):
            return x


def add_months(d: date, k: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    m += 1
    last = calendar.monthrange(y, m)[1]
    return date(y, m, min(d.day, last))
