"""Importing responses collected elsewhere: plain CSV or XLSX, Qualtrics and REDCap exports.

Each format is read into one table of answers (file line, respondent e-mail, partner,
item key, value), checked whole against the cycle's invitations and instruments, and
stored in one transaction, or not at all. A mapping file (TOML) says which columns hold
the respondent, the partner and each item, which to ignore, and how the tool's codes or
labels translate into the instrument's values. Importing the same file again changes
nothing.

- `_table`: what a format's reader hands on (FileTable) and the error every step raises;
- `_mapping`: the mapping file;
- `_files`: the bytes of a file as a grid of text cells, whatever its encoding and separator;
- `_qualtrics`, `_redcap`: each tool's layouts read into response rows;
- `_reading`: a file read as its format says;
- `_columns`: which columns answer items, which are left alone;
- `_answers`: every row checked against the invitations and the instruments;
- `_times`: submission times, in the file's zone or the mapping's;
- `_store`: all of it stored in bulk, or nothing;
- `_import`: one import, start to end, and its report.
"""

from surveys.responses.imports._import import (
    ImportSummary,
    cycles_taking_responses,
    import_responses,
)
from surveys.responses.imports._mapping import NOT_APPLICABLE, Mapping, RedcapChoice, load_mapping
from surveys.responses.imports._reading import FORMATS, format_for
from surveys.responses.imports._table import LINE, FileTable, ImportFileError, Said, said_text

__all__ = [
    "FORMATS",
    "LINE",
    "NOT_APPLICABLE",
    "FileTable",
    "ImportFileError",
    "ImportSummary",
    "Mapping",
    "RedcapChoice",
    "Said",
    "cycles_taking_responses",
    "format_for",
    "import_responses",
    "load_mapping",
    "said_text",
]
