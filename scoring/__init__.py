"""Rapport's scoring method (DESIGN.md §3), pure: DataFrames in, numbers out.

Nothing here imports `surveys`, opens a database or knows HTTP (an import contract checks
it). Read top to bottom: `items` → `reliability` → `indices` → `sand_cone` → `trends` →
`gaps` → `tiers` → `anonymity`, then `engine` (every step for one instrument, over all
targets at once) and `config` (every threshold of the method, overridable from TOML).
"""
