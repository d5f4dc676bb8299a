"""The machinery every stage shares: the runner (keys, skipping, atomic outputs, rejects, stats), run
directories (files, manifest, lock) and what a command may replace (`ownership`). It knows no stage."""
