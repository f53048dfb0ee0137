"""REDCap exports, raw or labels: which form, event and rows of the file hold the responses.

REDCap writes one header row, then one row per record (and per event, per repeat
instance): the record id first, whatever its name; REDCap's own columns
(`redcap_event_name`, `redcap_repeat_instrument`, `redcap_repeat_instance`,
`redcap_data_access_group`, `redcap_survey_identifier`); then each form in turn: its
`<form>_timestamp` if it is a survey, its fields, and its `<form>_complete` status. So a
field's form is the one whose `_complete` column comes next after it. A labels export
writes labels instead ("Record ID", "Event Name", "Survey Timestamp", question texts,
"Complete?"), so there a form is known only by its place in the header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from surveys.infra.i18n import N_
from surveys.responses.imports._files import data_rows
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._table import LINE, FileTable, Grid, ImportFileError, Said

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
OWN_LABELS = {
    "Event Name": EVENT,
    "Repeat Instrument": REPEAT_INSTRUMENT,
    "Repeat Instance": "redcap_repeat_instance",
    "Data Access Group": "redcap_data_access_group",
    "Survey Identifier": "redcap_survey_identifier",
}
"""REDCap's own columns after the record id: label in a labels export → raw name."""
_OTHER_EVENT = Said(N_("other event"))
_OTHER_FORM = Said(N_("other form"))
_INCOMPLETE = Said(N_("incomplete"))
"""The kinds of rows left out (marked: the console shows them in its reader's language)."""
COMPLETE_LABEL = "Complete?"
TIMESTAMP_LABEL = "Survey Timestamp"
RECORD_ID_LABEL = "Record ID"
COMPLETE = frozenset({"2", "Complete"})
"""A form's status when its respondent finished it (raw code, label)."""
NOT_STARTED = frozenset({"", "0", "Incomplete"})
UNCHECKED = frozenset({"", "0", "Unchecked"})


@dataclass(frozen=True)
class _Form:
    """One form (instrument) of the export: its columns, by position in the header."""

    name: str
    fields: tuple[int, ...]
    timestamp: int | None
    complete: int

    @property
    def columns(self) -> tuple[int, ...]:
        """Its timestamp (if a survey) and fields, without its status."""
        return (*([] if self.timestamp is None else [self.timestamp]), *self.fields)

    def described(self, labels: bool) -> str:
        """Its name; in a labels export, with the columns that make it up."""
        if labels:
            first = min((*self.columns, self.complete))
            return f"{self.name} (columns {first + 1}–{self.complete + 1})"
        return self.name


@dataclass(frozen=True)
class _Header:
    """The header as read: raw or labels, REDCap's own columns and the forms."""

    cells: list[str]
    labels: bool
    record_id: int
    own: dict[int, str]
    """REDCap's own `redcap_*` columns (the record id apart): position → raw name."""
    forms: tuple[_Form, ...]
    loose: tuple[int, ...]
    """Columns after the last form's status: of no form."""


def redcap_table(
    grid: Grid, path: Path, mapping: Mapping, mapped: frozenset[str]
) -> tuple[FileTable, str | None]:
    """Return the rows of the chosen form and event to check, and the form's timestamp column.

    Parameters
    ----------
    grid
        The file's cells; its first row is the header (field names, or labels).
    path
        The file, for messages.
    mapping
        `mapping.redcap` chooses the form, event and record id; `respondent`, `target` and
        `submitted_at` name columns kept even when they belong to another form.
    mapped
        The file's columns the import maps to items (named as the file names them).

    Returns
    -------
    The table (REDCap's own columns named by their raw names in both exports, other forms'
    fields set aside in `ignored`, rows left out counted as "other event", "other form" or
    "incomplete"), and the chosen form's `<form>_timestamp` column if it is a survey.
    """
    if not grid.rows:
        raise ImportFileError.about(
            path, N_("empty file; a REDCap export starts with a header row")
        )
    header = _read_header([cell.strip() for cell in grid.rows[0]], path, mapping)
    form = _chosen_form(header, path, mapping, mapped)
    if header.labels and mapping.redcap.form:
        named = replace(form, name=mapping.redcap.form)
        header = replace(header, forms=tuple(named if f == form else f for f in header.forms))
        form = named
    names = _names(header)
    kept, ignored = _kept_columns(header, form, names, mapping)
    _refuse_duplicates(path, names, kept)
    records = _records(grid, len(names), path)
    rows, left_out, event_note = _rows_to_check(records, names, header, form, path, mapping)
    metadata = frozenset(names[p] for p in kept if _is_own(header, p))
    table = pd.DataFrame(
        [[cells[p] for p in kept] for _, cells in rows],
        columns=[names[p] for p in kept],
        dtype=str,
    )
    table[LINE] = [line for line, _ in rows]
    timestamp = names[form.timestamp] if form.timestamp is not None else None
    notes = [
        *_label_notes(header, mapping),
        Said(
            N_("Responses: form %(form)s, rows whose %(form)s_complete is 2 (Complete)"),
            form=form.name,
        ),
        *event_note,
        *_ignored_notes(header, form, names, mapped),
    ]
    if timestamp is not None and mapping.submitted_at is None:
        notes.append(
            Said(
                N_(
                    "Submission time: %(column)s, REDCap's survey timestamp (written without "
                    "a zone)"
                ),
                column=timestamp,
            )
        )
    file_table = FileTable(
        rows=table.reset_index(drop=True),
        metadata=metadata,
        ignored=tuple(dict.fromkeys(names[p] for p in ignored)),
        left_out=left_out,
        notes=tuple(notes),
    )
    return file_table, timestamp


def _read_header(cells: list[str], path: Path, mapping: Mapping) -> _Header:
    """Tell raw from labels and find the record id, REDCap's own columns and the forms."""
    labels = COMPLETE_LABEL in cells
    wanted = mapping.redcap.record_id
    if wanted is None:
        record_id = 0
    elif wanted in cells:
        record_id = cells.index(wanted)
    else:
        raise ImportFileError.about(
            path,
            N_(
                "[redcap] record_id %(wanted)s is not a column of the file; its first column, "
                "REDCap's record id, is %(first)s"
            ),
            wanted=repr(wanted),
            first=repr(cells[0]),
        )
    own: dict[int, str] = {}
    for position, cell in enumerate(cells[1:], 1):
        raw = OWN_LABELS.get(cell) if labels else (cell if cell in OWN_LABELS.values() else None)
        if raw is None:
            if labels:  # a labels export writes them together, right after the record id
                break
            continue
        own[position] = raw
    forms, loose = _forms(cells, labels, own.keys() | {record_id})
    if not forms:
        raise ImportFileError.about(
            path,
            N_(
                "no <form>_complete column (%(label)s in a labels export): export each form "
                "with its status, so that unfinished responses can be told apart"
            ),
            label='"Complete?"',
        )
    return _Header(cells, labels, record_id, own, forms, loose)


def _forms(
    cells: list[str], labels: bool, own: Iterable[int]
) -> tuple[tuple[_Form, ...], tuple[int, ...]]:
    """Each form: the columns up to its status column (labels: named form_1, form_2, …)."""
    skipped = set(own)
    forms: list[_Form] = []
    columns: list[int] = []
    for position, cell in enumerate(cells):
        if position in skipped:
            continue
        if labels and cell == COMPLETE_LABEL:
            name = f"form_{len(forms) + 1}"
            stamp = TIMESTAMP_LABEL if columns and cells[columns[0]] == TIMESTAMP_LABEL else None
        elif not labels and cell.endswith("_complete") and cell != "_complete":
            name = cell.removesuffix("_complete")
            stamp = f"{name}_timestamp"
        else:
            columns.append(position)
            continue
        timestamp = next((p for p in columns if cells[p] == stamp), None)
        fields = tuple(p for p in columns if p != timestamp)
        forms.append(_Form(name, fields, timestamp, position))
        columns = []
    return tuple(forms), tuple(columns)


def _chosen_form(header: _Header, path: Path, mapping: Mapping, mapped: frozenset[str]) -> _Form:
    """The form named by `[redcap] form`, else the only one whose fields are mapped."""
    cells, forms = header.cells, header.forms
    listed = ", ".join(f.described(header.labels) for f in forms)
    wanted = mapping.redcap.form
    if wanted is not None and not header.labels:
        for form in forms:
            if form.name == wanted:
                return form
        raise ImportFileError.about(
            path,
            N_("[redcap] form %(wanted)s is not in the file; its forms: %(forms)s"),
            wanted=repr(wanted),
            forms=listed,
        )
    holding = {f: [cells[p] for p in f.fields if cells[p] in mapped] for f in forms}
    candidates = [f for f in forms if holding[f]]
    if len(candidates) > 1:
        # a labels export may repeat a question's text in two forms: the form with them all
        whole = [
            f for f in candidates if set(holding[f]) == {c for h in holding.values() for c in h}
        ]
        candidates = whole if len(whole) == 1 else candidates
    if len(candidates) == 1:
        return candidates[0]
    if len(forms) == 1:
        return forms[0]
    if candidates:
        spread = "; ".join(
            f"{f.described(header.labels)}: {', '.join(holding[f])}" for f in candidates
        )
        raise ImportFileError.about(
            path,
            _HOW_TO_CHOOSE[header.labels],
            count=len(candidates),
            spread=spread,
        )
    raise ImportFileError.about(
        path,
        N_(
            "no field of the file is mapped to an item, so the form to import cannot be "
            "told; its forms: %(forms)s"
        ),
        forms=listed,
    )


_HOW_TO_CHOOSE = {
    True: N_(
        "the fields mapped to items are in %(count)s forms (%(spread)s); map the questions "
        "of one form only (a labels export does not name its forms)"
    ),
    False: N_(
        "the fields mapped to items are in %(count)s forms (%(spread)s); name the one to "
        "import with [redcap] form"
    ),
}
"""Fields of several forms mapped: how to choose one, in a labels export or a raw one."""


def _names(header: _Header) -> list[str]:
    """The header with REDCap's own columns named by their raw names (labels renamed)."""
    names = list(header.cells)
    if not header.labels:
        return names
    for position, raw in header.own.items():
        names[position] = raw
    if names[header.record_id] == RECORD_ID_LABEL:
        names[header.record_id] = "record_id"
    for each in header.forms:
        names[each.complete] = f"{each.name}_complete"
        if each.timestamp is not None:
            names[each.timestamp] = f"{each.name}_timestamp"
    return names


def _is_own(header: _Header, position: int) -> bool:
    """REDCap's own column: record id, redcap_* columns, every timestamp and status."""
    return (
        position == header.record_id
        or position in header.own
        or any(position in (f.timestamp, f.complete) for f in header.forms)
    )


def _kept_columns(
    header: _Header, form: _Form, names: list[str], mapping: Mapping
) -> tuple[list[int], list[int]]:
    """Columns handed on (REDCap's own, the form's, the mapping's), and other forms' fields."""
    identity = {mapping.respondent, mapping.target, mapping.submitted_at} - {None}
    others = {p for f in header.forms if f != form for p in f.fields}
    kept, ignored = [], []
    for position, name in enumerate(names):
        if position in others and name not in identity:
            ignored.append(position)
        else:
            kept.append(position)
    return kept, ignored


def _refuse_duplicates(path: Path, names: list[str], kept: list[int]) -> None:
    """Two columns handed on under one name would leave the import to guess which is meant."""
    first: dict[str, int] = {}
    for position in kept:
        name = names[position]
        if name in first:
            raise ImportFileError.about(
                path,
                N_(
                    "columns %(first)s and %(second)s are both named %(name)s; export raw "
                    "field names, or rename one"
                ),
                first=first[name] + 1,
                second=position + 1,
                name=repr(name),
            )
        first[name] = position


def _records(grid: Grid, width: int, path: Path) -> list[tuple[int, list[str]]]:
    """Each data row with its line, padded to the header's width; blank rows skipped."""
    rows, lines = data_rows(grid, 1, width, path)
    return list(zip(lines, rows, strict=True))


def _rows_to_check(
    records: list[tuple[int, list[str]]],
    names: list[str],
    header: _Header,
    form: _Form,
    path: Path,
    mapping: Mapping,
) -> tuple[list[tuple[int, list[str]]], dict[str, int], list[str]]:
    """The rows of the chosen event and form that are complete; the others counted by kind."""
    event, note = _chosen_event(records, names, header, form, path, mapping)
    event_at = names.index(EVENT) if event is not None else None
    belongs = _belongs_to(records, names, header, form)
    kept: list[tuple[int, list[str]]] = []
    left_out: dict[str, int] = {}
    for line, cells in records:
        if event_at is not None and cells[event_at].strip() != event:
            kind: str | None = _OTHER_EVENT
        elif not belongs(cells):
            kind = _OTHER_FORM
        elif cells[form.complete].strip() not in COMPLETE:
            kind = _INCOMPLETE
        else:
            kind = None
        if kind is None:
            kept.append((line, cells))
        else:
            left_out[kind] = left_out.get(kind, 0) + 1
    return kept, left_out, note


def _chosen_event(
    records: list[tuple[int, list[str]]],
    names: list[str],
    header: _Header,
    form: _Form,
    path: Path,
    mapping: Mapping,
) -> tuple[str | None, list[str]]:
    """The event to import: `[redcap] event`, else the only one holding the form's data."""
    wanted = mapping.redcap.event
    if EVENT not in names:
        if wanted is not None:
            raise ImportFileError.about(
                path,
                N_(
                    "[redcap] event is %(wanted)s, but the file has no %(column)s column "
                    "(it is not a longitudinal export)"
                ),
                wanted=repr(wanted),
                column=EVENT,
            )
        return None, []
    at = names.index(EVENT)
    events = list(dict.fromkeys(cells[at].strip() for _, cells in records))
    if wanted is not None:
        if wanted not in events:
            raise ImportFileError.about(
                path,
                N_("[redcap] event %(wanted)s is not in the file; its events: %(events)s")
                if not header.labels
                else N_(
                    "[redcap] event %(wanted)s is not in the file; its events: %(events)s "
                    "(as a labels export writes them)"
                ),
                wanted=repr(wanted),
                events=", ".join(events),
            )
        return wanted, []
    with_data = {cells[at].strip() for cells in _with_data(records, header, form)}
    holding = [e for e in events if e in with_data]
    if len(holding) > 1:
        raise ImportFileError.about(
            path,
            N_(
                "a longitudinal export with %(form)s data in %(count)s events (%(events)s); "
                "name the one to import with [redcap] event"
            ),
            form=form.name,
            count=len(holding),
            events=", ".join(holding),
        )
    if len(holding) == 1 and len(events) > 1:
        return holding[0], [
            Said(
                N_("Event %(event)s: the only one with %(form)s data"),
                event=holding[0],
                form=form.name,
            )
        ]
    return None, []


def _with_data(
    records: list[tuple[int, list[str]]], header: _Header, form: _Form
) -> list[list[str]]:
    """Rows where the form holds anything (an unticked checkbox, written 0, holds nothing)."""

    def holds(cells: list[str], position: int) -> bool:
        value = cells[position].strip()
        label = header.cells[position]
        checkbox = "(choice=" in label if header.labels else "___" in label
        return value not in (UNCHECKED if checkbox else {""})

    return [
        cells
        for _, cells in records
        if any(holds(cells, p) for p in form.columns)
        or cells[form.complete].strip() not in NOT_STARTED
    ]


def _belongs_to(
    records: list[tuple[int, list[str]]], names: list[str], header: _Header, form: _Form
) -> Callable[[list[str]], bool]:
    """Whether a row is the form's: repeat rows of other forms, and base rows when the form
    itself repeats, are not."""
    if REPEAT_INSTRUMENT not in names:
        return lambda cells: True
    at = names.index(REPEAT_INSTRUMENT)

    def own_instance(cells: list[str]) -> bool:
        if header.labels:  # instruments written by label: REDCap leaves other forms' cells empty
            return cells[form.complete].strip() != ""
        return cells[at].strip() == form.name

    repeats = any(cells[at].strip() and own_instance(cells) for _, cells in records)
    return lambda cells: own_instance(cells) if cells[at].strip() else not repeats


def _label_notes(header: _Header, mapping: Mapping) -> list[str]:
    if not header.labels:
        return []
    forms = ", ".join(f.described(True) for f in header.forms)
    own = ", ".join(header.own.values())
    message = {
        (True, True): N_(
            "Labels export: REDCap's own columns read by their raw names (%(own)s); forms "
            "named by position, as the file does not name them: %(forms)s (named by [redcap] "
            "form)"
        ),
        (True, False): N_(
            "Labels export: REDCap's own columns read by their raw names (%(own)s); forms "
            "named by position, as the file does not name them: %(forms)s"
        ),
        (False, True): N_(
            "Labels export: REDCap's own columns read by their raw names (none besides the "
            "record id); forms named by position, as the file does not name them: %(forms)s "
            "(named by [redcap] form)"
        ),
        (False, False): N_(
            "Labels export: REDCap's own columns read by their raw names (none besides the "
            "record id); forms named by position, as the file does not name them: %(forms)s"
        ),
    }[bool(own), bool(mapping.redcap.form)]
    return [Said(message, own=own, forms=forms) if own else Said(message, forms=forms)]


def _ignored_notes(
    header: _Header, form: _Form, names: list[str], mapped: frozenset[str]
) -> list[str]:
    """Fields of other forms named like mapped items are set aside, but say so."""
    alike = [
        names[p] for f in header.forms if f != form for p in f.fields if header.cells[p] in mapped
    ]
    if not alike:
        return []
    return [
        Said(
            N_("Fields of other forms named like mapped items, set aside: %(fields)s"),
            fields=", ".join(alike),
        )
    ]
