// The web dashboard, HTTP API and metrics; see docs/ARCHITECTURE.md.
