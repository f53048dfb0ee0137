"""The directory import: a sponsor's whole directory (organisations, people, the
relationships they rate) from its CTMS or CRM export, as CSV or XLSX.

A file is read (`_read`: encodings, delimiters, workbooks), its columns and codes mapped
onto Rapport's fields (`_mapping`, a TOML file), checked on its own (`_check`), compared
with the stored directory (`_plan`, pure, over `_records`), and written in one
transaction (`_store`, `_apply`). Every problem is listed with its line and column, and
nothing is written while there is one. docs/directory-import.md describes the fields and
the mapping.

May import: `surveys.infra` and the rest of `surveys.directory`.
"""

from surveys.directory.directory_import._apply import (
    apply_directory,
    plan_directory,
    read_directory,
)
from surveys.directory.directory_import._changes import Changed, ChangeSet, KindChanges
from surveys.directory.directory_import._check import DirectoryFile
from surveys.directory.directory_import._mapping import (
    CANONICAL,
    FIELDS,
    ORGANISATION_FIELDS,
    PERSON_FIELDS,
    RELATIONSHIP_FIELDS,
    DirectoryMapping,
    directory_mapping,
)
from surveys.directory.directory_import._problems import DirectoryFileError, Problem
from surveys.directory.directory_import._read import FORMATS

__all__ = [
    "CANONICAL",
    "FIELDS",
    "FORMATS",
    "ORGANISATION_FIELDS",
    "PERSON_FIELDS",
    "RELATIONSHIP_FIELDS",
    "ChangeSet",
    "Changed",
    "DirectoryFile",
    "DirectoryFileError",
    "DirectoryMapping",
    "KindChanges",
    "Problem",
    "apply_directory",
    "directory_mapping",
    "plan_directory",
    "read_directory",
]
