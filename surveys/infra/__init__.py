"""Infrastructure: what every other package stands on, and which knows none of them.

The database engine and its transactions (`database`), the SQLite connection pool and
constraints (`sqlite_pool`, `sqlite_constraints`), units of writes as SQL scripts
(`sql_scripts`), settings (`settings`), expected errors (`errors`), languages and
number formats (`i18n`), the Jinja environment outside requests (`templating`), e-mail
delivery (`mail`), secret tokens and their hashes (`tokens`), spreadsheet-safe CSV
(`spreadsheets`) and lists cut into pages (`pagination`).

May import: `scoring` and third-party libraries. Never a table or any other package of
`surveys` (checked by the import contracts in pyproject.toml).
"""
