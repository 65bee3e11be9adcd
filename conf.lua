-- staticdhcpd configuration. Upper-case globals are settings; see docs/SCRIPTING.md.
DHCP_SERVER_IP = "192.0.2.1"
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "dhcp.sqlite3"
