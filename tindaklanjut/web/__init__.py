"""The web workspace: server-rendered pages in Bahasa Indonesia for agencies,
verifiers and secretaries, on the same command bus and read models as the API."""
