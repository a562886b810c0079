"""Storage: the layer under every other. Which folders the pipeline owns and may replace,
one run per output folder (locks), replacing a folder atomically, and fingerprints of files
and of the package's own source. Imports nothing from the rest of the package but errors."""
