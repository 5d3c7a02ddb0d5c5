"""The texts every consent and every disclosure carries (42 CFR Part 2, 2024 wording).

``PART2_NOTICE`` is §2.32 statement 1, verbatim; ``PART2_NOTICE_SHORT`` is statement 2.
The redisclosure, revocation and refusal statements of a §2.31 consent are plain-language
texts of this program (the reference marks those elements *secondary*).
"""

from __future__ import annotations

PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, "
    "or testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, "
    "except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance "
    "with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from making any "
    "other use or disclosure of this record unless at least one of the following applies: "
    "(i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise "
    "permitted by 42 CFR part 2. (ii) You are a covered entity or business associate and "
    "have received the record for treatment, payment, or health care operations, or (iii) "
    "You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required "
    "elements of written consent to further use or redisclose the record (see 42 CFR 2.31)."
)

PART2_NOTICE_SHORT = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

# FHIR / HL7 security labels a Part 2 disclosure carries in meta.security.
PART2_SECURITY_LABELS = ("42CFRPart2", "ETH", "NORDSCLCD", "R")

# The §2.32 notice in Spanish, shown beside the authoritative English above: only a
# text taken from ../shared/reference/ may go here, never our own translation. None is
# there yet, so every disclosure carries the English only (BLOCKED: docs/I18N.md).
PART2_NOTICE_SPANISH: str | None = None
