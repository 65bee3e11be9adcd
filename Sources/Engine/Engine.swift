// The DHCP engine; see docs/ARCHITECTURE.md.
