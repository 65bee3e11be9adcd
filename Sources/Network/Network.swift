// Sockets and reply addressing; see docs/ARCHITECTURE.md.
