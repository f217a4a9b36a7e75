"""The roster's bodies: classes, subgroups, pupils, guardians, staff, by the program's ids.

Field names are those of the records in services/ingest/roster.py; `*_id` fields there (and
here) are the journal program's own ids, never ours.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from bot.api.fields import ExternalRef, Name, Phone, ShortText, SubjectName
from bot.api.models import Strict

Sex = Literal["m", "f"]
# The class teacher's role comes with the class (`class_teacher`), not from here.
Role = Literal["subject_teacher", "deputy_director", "administrator"]


class ClassIn(Strict):
    """A class of the current academic year."""

    external_id: ExternalRef
    grade: int = Field(ge=1, le=11)
    letter: str = Field(min_length=1, max_length=4, pattern=r"^[^\u0000-\u001f\u007f]+$")
    shift: int = Field(default=1, ge=1, le=3)
    class_teacher: ExternalRef | None = Field(default=None, description="a staff member's id")


class SubgroupIn(Strict):
    external_id: ExternalRef
    class_id: ExternalRef
    name: Name
    subject: SubjectName | None = None
    members: list[ExternalRef] | None = Field(
        default=None, max_length=100, description="pupils' ids; absent: left as they are"
    )


class PersonIn(Strict):
    """What every person of the roster has: the program's id, the name, the sex."""

    external_id: ExternalRef
    last_name: Name
    first_name: Name
    middle_name: Name | None = None
    sex: Sex | None = None


class StudentIn(PersonIn):
    birth_date: date | None = None
    class_id: ExternalRef | None = None
    phone: Phone | None = None
    consent: bool | None = Field(default=None, description="a parent's consent on record")
    consent_on: date | None = None


class WardIn(Strict):
    student_id: ExternalRef
    relation: ShortText = "parent"


class GuardianIn(PersonIn):
    phones: list[Phone] = Field(default_factory=list, max_length=5)
    children: list[WardIn] | None = Field(
        default=None, max_length=20, description="absent: guardianships left as they are"
    )


class TeachingIn(Strict):
    subject: SubjectName
    class_id: ExternalRef
    subgroup_id: ExternalRef | None = None


class StaffIn(PersonIn):
    phone: Phone | None = None
    roles: list[Role] = Field(default_factory=list, max_length=3)
    teaching: list[TeachingIn] | None = Field(
        default=None, max_length=100, description="absent: teaching left as it is"
    )
