"""Results: score runs and what they store (`score_runs`), scoring a closed cycle
(`cycle_scoring`, which stores through `run_store`) or an analyst's file (`score_file`),
the score tables as CSV (`score_exports`), tiers (`tier_assignments`) and their review
(`tier_review`), the action items agreed at review meetings (`meetings`), and an
escalation flag in words, from a run's figures (`flag_sentences`, which scorecards,
meeting packs and trends share).

May import: `scoring`, `surveys.infra`, `surveys.directory`,
`surveys.instruments`, `surveys.cycles`, `surveys.responses`.
"""
