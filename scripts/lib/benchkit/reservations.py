"""The reserved clients every server is given, and their addresses.

perfdhcp -R N -b mac=BASE makes client k (k = 0..N-1, cycling in order) by adding k to BASE
byte by byte from the right; for BASE 02:00:00:01:00:00 and N <= 65536 that is
02:00:00:01:HH:LL with HHLL = k (checked on the wire by macs.py before each bench). The soak
(soak.py) goes past 65,536: client k is then 02:00:00:(01 + k >> 16):HH:LL, still one MAC per k.

Only RFC 5737 space may be used, and 203.0.113.0/24 has 250 usable host addresses for 10,000
clients, so addresses repeat: client k gets 203.0.113.(k % 250 + 1). Each address is shared by
40 clients spaced 250 apart in perfdhcp's cycle. For staticdhcpd the repeats are legal as
distinct (subnet, serial) labels: serial = k // 250 keeps UNIQUE(ip, subnet, serial).
"""
from dataclasses import dataclass

SUBNET = "203.0.113.0/24"
NETMASK = "255.255.255.0"
BROADCAST = "203.0.113.255"
ROUTER = "203.0.113.254"
DNS = "203.0.113.253"
LEASE_SECONDS = 3600
HOSTS_PER_SERIAL = 250


def mac_for(base: str, index: int) -> str:
    """perfdhcp's client MAC: BASE plus index, added byte by byte from the right, no carry between bytes."""
    octets = [int(part, 16) for part in base.split(":")]
    if len(octets) != 6:
        raise ValueError(f"MAC template {base!r} does not have six octets")
    position = 5
    while index and position >= 0:
        octets[position] = (octets[position] + index) & 0xFF
        index >>= 8
        position -= 1
    return ":".join(f"{octet:02x}" for octet in octets)


@dataclass(frozen=True)
class Reservation:
    mac: str
    ip: str
    serial: int


# Far above any bench (the soak's default is 100,000); MACs stay distinct up to 2**24 clients.
MAX_CLIENTS = 1_000_000


def reservations(base: str, count: int) -> list:
    if not 1 <= count <= MAX_CLIENTS:
        raise ValueError(f"client count {count} is outside 1..{MAX_CLIENTS:,}")
    return [Reservation(mac_for(base, k), f"203.0.113.{k % HOSTS_PER_SERIAL + 1}", k // HOSTS_PER_SERIAL)
            for k in range(count)]


def sqlite_script(entries: list, wal: bool = True) -> str:
    """SQL for the schema of docs/DEPLOYMENT.md ("The reservation tables") and the reservations, for the sqlite3 CLI.

    WAL mode, as `staticdhcpd db init` makes it: readers never take the file lock a
    rollback-journal database needs for every read transaction. Without `wal`, the rollback
    journal sqlite3 gives a new file: a database migrated from the original, as a site has it.
    """
    lines = [
        "PRAGMA journal_mode=WAL;" if wal else "PRAGMA journal_mode=DELETE;",
        "CREATE TABLE subnets (subnet TEXT NOT NULL, serial INTEGER NOT NULL DEFAULT 0,"
        " lease_time INTEGER NOT NULL, gateway TEXT, subnet_mask TEXT, broadcast_address TEXT,"
        " ntp_servers TEXT, domain_name_servers TEXT, domain_name TEXT, PRIMARY KEY(subnet, serial));",
        "CREATE TABLE maps (mac TEXT PRIMARY KEY, ip TEXT NOT NULL, hostname TEXT, subnet TEXT NOT NULL,"
        " serial INTEGER NOT NULL DEFAULT 0, UNIQUE(ip, subnet, serial));",
        "BEGIN;",
    ]
    for serial in sorted({entry.serial for entry in entries}):
        lines.append(f"INSERT INTO subnets VALUES ('{SUBNET}', {serial}, {LEASE_SECONDS}, '{ROUTER}',"
                     f" '{NETMASK}', '{BROADCAST}', NULL, '{DNS}', NULL);")
    for entry in entries:
        lines.append(f"INSERT INTO maps VALUES ('{entry.mac}', '{entry.ip}', NULL, '{SUBNET}', {entry.serial});")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def coredhcp_leases(entries: list) -> str:
    """CoreDHCP's file plugin: one 'MAC IP' line each; it keeps a MAC->IP map, so repeated IPs are accepted."""
    return "".join(f"{entry.mac} {entry.ip}\n" for entry in entries)


def kea_reservations(entries: list) -> list:
    return [{"hw-address": entry.mac, "ip-address": entry.ip} for entry in entries]
