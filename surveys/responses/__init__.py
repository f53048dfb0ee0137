"""Responses: the answers behind an invitation (`answers`), what a respondent does with
the form (`answering`), responses imported from other tools (`imports`) and the
administrators' CSV of answers (`exports`).

May import: `surveys.infra`, `surveys.directory`, `surveys.instruments`,
`surveys.cycles`.
"""
