// Definitions and database engines; see docs/ARCHITECTURE.md.
