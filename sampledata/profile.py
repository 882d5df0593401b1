"""What sets one ward apart: which sources it sends, how, and its particular history.

A few traits go by the ward's position in the generated list, so that any run of three wards
or more (the end-to-end test's included) holds every case: the first ward's CIO advisor leaves
mid-year and its career-path regulation is repealed, the second ward sends personnel-exchange
exports with no row ("spoken, nothing"), the third never sends one (no data).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

EXCHANGES_SENT = "sent"
EXCHANGES_EMPTY = "empty"
EXCHANGES_ABSENT = "absent"

CIO_NONE = "none"
CIO_YEARLY = "yearly"
CIO_OPEN_ENDED = "open_ended"
CIO_ENDS_MID_YEAR = "ends_mid_year"

CAREER_PATH_NEVER = "never"
CAREER_PATH_BEFORE = "before"  # in force before the first simulated year
CAREER_PATH_ENACTED = "enacted"  # takes effect during a simulated year
CAREER_PATH_REPLACED = "replaced"  # repealed and replaced by a revised regulation the same day
CAREER_PATH_REPEALED = "repealed"  # repealed in the last simulated year, nothing replaces it


@dataclass(frozen=True)
class WardProfile:
    """The traits of one ward.

    Attributes:
        index: The ward's position in the generated list.
        exchanges: Whether personnel-exchange exports are sent, sent empty, or never sent.
        cio: How the ward employs a CIO advisor, if at all.
        career_path: The story of its digital-specialist career-path regulation.
        skill_share: The share of staff who self-assess on the skill map each year.
        skill_mid_year: Whether HR also exports the skill map on October 1.
        project_encoding: The encoding of the DX office's project register.
    """

    index: int
    exchanges: str
    cio: str
    career_path: str
    skill_share: float
    skill_mid_year: bool
    project_encoding: str


def ward_profile(index: int, code: str, seed: int) -> WardProfile:
    """The traits of the ward at `index` in the generated list, deterministic from the seed."""
    rng = random.Random(f"{seed}:{code}:profile")
    return WardProfile(
        index=index,
        exchanges={1: EXCHANGES_EMPTY, 2: EXCHANGES_ABSENT}.get(index, EXCHANGES_SENT),
        cio=_cio(index, rng),
        career_path=_career_path(index, rng),
        skill_share=rng.uniform(0.6, 0.95),
        skill_mid_year=rng.random() < 0.5,
        project_encoding="cp932" if index % 2 == 0 else "utf-16",
    )


def _cio(index: int, rng: random.Random) -> str:
    choice = rng.choice((CIO_YEARLY, CIO_YEARLY, CIO_OPEN_ENDED, CIO_NONE))
    if index == 0:
        return CIO_ENDS_MID_YEAR
    return CIO_NONE if index % 3 == 1 else choice


def _career_path(index: int, rng: random.Random) -> str:
    choice = rng.choices(
        (CAREER_PATH_NEVER, CAREER_PATH_BEFORE, CAREER_PATH_ENACTED, CAREER_PATH_REPLACED),
        weights=(3, 2, 3, 1),
    )[0]
    return CAREER_PATH_REPEALED if index == 0 else choice
