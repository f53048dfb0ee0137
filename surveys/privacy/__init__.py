"""A person's own data (GDPR articles 15 and 17): everything held on someone, exported;
a person erased (name, e-mail and account gone, submitted answers kept under a
pseudonym so that scores do not change); old comment texts purged.

- `personal_data`: the export (`personal_data`, `person_with_email`).
- `erasure`: `erase_person`, and the pseudonym it gives.
- `comment_purge`: `purge_old_comments`, as RAPPORT_KEEP_COMMENTS_CYCLES asks.

May import: every domain package below it (`surveys.scorecards` down to `surveys.infra`).
"""

from surveys.privacy.comment_purge import CommentPurge, purge_old_comments
from surveys.privacy.erasure import Erasure, ErasureError, erase_person
from surveys.privacy.personal_data import UnknownPersonError, person_with_email, personal_data

__all__ = [
    "CommentPurge",
    "Erasure",
    "ErasureError",
    "UnknownPersonError",
    "erase_person",
    "person_with_email",
    "personal_data",
    "purge_old_comments",
]
