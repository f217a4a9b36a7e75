"""Activation codes and linking a Telegram account to a guardian, a student or a staff member.

Codes are issued by the journal administrator (seed 001 §3.2, seed 004 §3.3.5), are random from
`secrets`, single use, expiring, and stored only as an HMAC with a server secret. Guessing is
limited per account; a flood of wrong codes from many accounts tightens the budget of accounts
linked to nobody, and never refuses a right code to an account that is not itself locked. Every
attempt is audited.

`people` names whom a code or link is for, `codes` issues codes, `limits` counts wrong ones,
`redeeming` links by a code, `phone` by a confirmed number, and `links` ends and lists links.
"""

from services.linking.codes import (
    ALPHABET,
    CODE_LENGTH,
    DEFAULT_TTL,
    GROUP,
    MAX_TTL_DAYS,
    ClassOf,
    IssuedCode,
    Recipients,
    StaffOf,
    format_code,
    generate_code,
    hash_code,
    issue,
    normalize_code,
)
from services.linking.limits import (
    FAILURE_WINDOW,
    FLOOD_FAILURES,
    GLOBAL_WINDOW,
    MAX_FAILURES_IN_FLOOD,
    MAX_FAILURES_PER_ACCOUNT,
    flood,
)
from services.linking.links import (
    LinkInfo,
    list_links,
    logout,
    only_school,
    person_zone,
    report_lost,
    restore_person,
    revoke_person,
    school_name,
    school_zone,
)
from services.linking.people import (
    PersonColumns,
    PersonId,
    PersonKind,
    check_person,
    check_school,
)
from services.linking.phone import link_by_phone, phone_forms, phone_login_enabled
from services.linking.redeeming import LinkResult, Outcome, redeem

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_TTL",
    "FAILURE_WINDOW",
    "FLOOD_FAILURES",
    "GLOBAL_WINDOW",
    "GROUP",
    "MAX_FAILURES_IN_FLOOD",
    "MAX_FAILURES_PER_ACCOUNT",
    "MAX_TTL_DAYS",
    "ClassOf",
    "IssuedCode",
    "LinkInfo",
    "LinkResult",
    "Outcome",
    "PersonColumns",
    "PersonId",
    "PersonKind",
    "Recipients",
    "StaffOf",
    "check_person",
    "check_school",
    "flood",
    "format_code",
    "generate_code",
    "hash_code",
    "issue",
    "link_by_phone",
    "list_links",
    "logout",
    "normalize_code",
    "only_school",
    "person_zone",
    "phone_forms",
    "phone_login_enabled",
    "redeem",
    "report_lost",
    "restore_person",
    "revoke_person",
    "school_name",
    "school_zone",
]
