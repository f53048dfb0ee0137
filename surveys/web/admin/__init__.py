"""The administrator's console at `/admin`: the directory, accounts, instruments, cycles
and the audit log, for administrators only (anyone else is answered 404, as for a page
that does not exist).

Every action calls the same domain function as its `rapport` command, checks the form's
CSRF token (the app's middleware) and writes the audit log in that function's
transaction. Long work (scoring, scorecards) runs as a background job (`surveys.jobs`)
whose progress the page shows; a refresh shows where it got to.

- `_common`: the page helper, posted forms, notices after a redirect, lists in pages;
- `_audit`: the console's home and the audit log with its CSV download;
- `_directory`: organisations, people and relationships;
- `_import`: a directory file uploaded, previewed, confirmed;
- `_responses`: a file of responses from another survey tool uploaded, checked, imported;
- `_accounts`: accounts, grants, invitations to sign in, API tokens;
- `_cycles`: a cycle created, opened, watched, reminded, closed, scored, published, its
  scorecards sent;
- `_programme`: the programme's rules, its timeline, a cycle moved or skipped, a pause;
- `_privacy`: a person's own data, exported and erased;
- `_instruments`: the loaded questionnaires, previewed, and a new version loaded.
"""

from surveys.web.admin._accounts import AccountsConsole
from surveys.web.admin._audit import ConsoleHome
from surveys.web.admin._cycles import CyclesConsole
from surveys.web.admin._directory import DirectoryConsole
from surveys.web.admin._import import DirectoryImportConsole
from surveys.web.admin._instruments import InstrumentsConsole
from surveys.web.admin._privacy import PrivacyConsole
from surveys.web.admin._programme import ProgrammeConsole
from surveys.web.admin._responses import ResponseImportConsole

CONSOLE = [
    ConsoleHome,
    DirectoryConsole,
    DirectoryImportConsole,
    AccountsConsole,
    PrivacyConsole,
    InstrumentsConsole,
    CyclesConsole,
    ProgrammeConsole,
    ResponseImportConsole,
]
"""The console's controllers, registered by the app."""

__all__ = ["CONSOLE"]
