#!/usr/bin/env python3
"""Checks the DHCPACKs several servers put on the wire for lease conflicts.

    lease_check.py [--lease-time S] [--log NAME=FILE ...] [--events FILE] NAME=PCAP [NAME=PCAP ...]

Each NAME=PCAP is a classic pcap capture (tcpdump -w, Ethernet framing) of what the server NAME sent
(for instance `tcpdump -i IF -Q out udp src port 67` on its own interface); several captures may
name the same server (one per run). Every BOOTREPLY with message type 5 (ACK) and a non-zero yiaddr
is a lease: chaddr holds yiaddr from the frame's time for the lease time it carries (option 51;
--lease-time when absent, default 3600 s). A RELEASE or DECLINE (BOOTREQUEST, type 7 or 4) found
in any capture ends the sender's lease early.

Fails (exit 1) and lists each offender when
  - an address was ACKed to a MAC while another MAC's lease on it could still be valid (a duplicate);
  - a MAC was ACKed an address while its own earlier lease on another address could still be valid
    (a renewal, a second pass or the other server gave it a different address).
With --log NAME=FILE (the server's log at INFO), every "ACK sent to MAC for IP" line must have a
matching ACK in that server's captures; missing ones mean the capture lost packets, so the check
would be incomplete: exit 3 when that is the only problem. Exit 2: unreadable input.

Always prints one summary line starting "lease_check:". --events FILE writes every ACK as
"TIME SERVER MAC IP LEASE_SECONDS" (TIME: seconds since the epoch), in time order.
"""
import argparse
import re
import struct
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

# The bench's pcap reader (scripts/lib/benchkit/pcap.py), shared rather than written twice.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "lib"))
from benchkit.pcap import CaptureError, bootp_payloads, options  # noqa: E402

ACK, RELEASE, DECLINE = 5, 7, 4


@dataclass(frozen=True)
class Frame:
    seconds: float
    op: int
    message_type: Optional[int]
    chaddr: str
    ciaddr: str
    yiaddr: str
    lease_time: Optional[int]
    server_id: Optional[str]
    requested: Optional[str]


def _ip(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def frames(path: Path) -> Iterator[Frame]:
    """The DHCP messages of a pcap capture (a last record cut short by a killed tcpdump is skipped)."""
    for seconds, bootp in bootp_payloads(path, empty_ok=True):
        found = options(bootp)
        def four(code):
            value = found.get(code)
            return value if value is not None and len(value) == 4 else None
        message_type = found[53][0] if len(found.get(53, b"")) == 1 else None
        lease = four(51)
        yield Frame(seconds, bootp[0], message_type, ":".join(f"{b:02x}" for b in bootp[28:34]),
                    _ip(bootp[12:16]), _ip(bootp[16:20]), struct.unpack(">I", lease)[0] if lease else None,
                    _ip(four(54)) if four(54) else None, _ip(four(50)) if four(50) else None)


@dataclass
class Ack:
    seconds: float
    server: str
    mac: str
    ip: str
    lease_time: int
    server_id: Optional[str]

    @property
    def until(self) -> float:
        return self.seconds + self.lease_time


def stamp(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}"


def named(value: str) -> tuple:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got '{value}'")
    name, path = value.split("=", 1)
    return name, Path(path)


LOG_ACK = re.compile(r"\bACK sent to ([0-9a-f:]{17}) for ([0-9.]+) via ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("captures", nargs="+", type=named, metavar="NAME=PCAP")
    parser.add_argument("--lease-time", type=int, default=3600, help="for ACKs without option 51")
    parser.add_argument("--log", action="append", default=[], type=named, metavar="NAME=FILE")
    parser.add_argument("--events", type=Path, help="write every ACK here, one per line")
    parser.add_argument("--max-listed", type=int, default=20, help="offenders listed in full (all are counted)")
    args = parser.parse_args()

    acks: list = []
    ends: list = []  # (seconds, mac, ip): RELEASE / DECLINE
    try:
        for server, path in args.captures:
            if not path.exists():
                print(f"lease_check: capture {path} of {server} does not exist", file=sys.stderr)
                return 2
            for frame in frames(path):
                if frame.op == 2 and frame.message_type == ACK and frame.yiaddr != "0.0.0.0":
                    acks.append(Ack(frame.seconds, server, frame.chaddr, frame.yiaddr,
                                    frame.lease_time if frame.lease_time is not None else args.lease_time,
                                    frame.server_id))
                elif frame.op == 1 and frame.message_type in (RELEASE, DECLINE):
                    ip = frame.ciaddr if frame.ciaddr != "0.0.0.0" else frame.requested
                    if ip:
                        ends.append((frame.seconds, frame.chaddr, ip))
    except (OSError, ValueError, CaptureError) as error:
        print(f"lease_check: {error}", file=sys.stderr)
        return 2
    acks.sort(key=lambda ack: (ack.seconds, ack.server))
    ends = sorted(set(ends))

    # Replay in time order. holders[ip][mac] and held[mac][ip]: the latest ACK of that pair.
    holders: dict = defaultdict(dict)
    held: dict = defaultdict(dict)
    duplicates: dict = defaultdict(list)   # ip -> [(earlier ack, later ack)]
    changes: dict = defaultdict(list)      # mac -> [(earlier ack, later ack)]
    end_index = 0
    for ack in acks:
        while end_index < len(ends) and ends[end_index][0] <= ack.seconds:
            _, mac, ip = ends[end_index]
            holders[ip].pop(mac, None)
            held[mac].pop(ip, None)
            end_index += 1
        for mac, earlier in holders[ack.ip].items():
            if mac != ack.mac and earlier.until > ack.seconds:
                duplicates[ack.ip].append((earlier, ack))
        for ip, earlier in held[ack.mac].items():
            if ip != ack.ip and earlier.until > ack.seconds:
                changes[ack.mac].append((earlier, ack))
        holders[ack.ip][ack.mac] = ack
        held[ack.mac][ack.ip] = ack

    def ip_order(ip: str) -> tuple:
        return tuple(int(part) for part in ip.split("."))

    def history(predicate, show) -> str:
        """Each (MAC, address) pair matching, in time order: the MAC or the address (show), first ACK
        time, servers, ACK count."""
        pairs: dict = {}
        for ack in acks:
            if predicate(ack):
                seen = pairs.setdefault((ack.mac, ack.ip), [ack.seconds, [], 0])
                if ack.server not in seen[1]:
                    seen[1].append(ack.server)
                seen[2] += 1
        return "; ".join(f"{show(mac, ip)} from {stamp(first)} by {'+'.join(servers)} ({count} ACKs)"
                         for (mac, ip), (first, servers, count) in sorted(pairs.items(), key=lambda item: item[1][0]))

    status = 0
    if duplicates:
        status = 1
        print(f"DUPLICATE ADDRESSES: {len(duplicates)} addresses were ACKed to a second MAC while an earlier lease on them "
              f"was valid (per address: each MAC, when it was first ACKed the address, by which servers)")
        for index, ip in enumerate(sorted(duplicates, key=ip_order)):
            if index >= args.max_listed:
                print(f"  ... and {len(duplicates) - args.max_listed} more addresses")
                break
            print(f"  {ip}: {history(lambda ack: ack.ip == ip, lambda mac, _: mac)}")
    if changes:
        status = 1
        print(f"CHANGED ADDRESSES: {len(changes)} MACs were ACKed a different address while their earlier lease was valid")
        for index, mac in enumerate(sorted(changes)):
            if index >= args.max_listed:
                print(f"  ... and {len(changes) - args.max_listed} more MACs")
                break
            print(f"  {mac}: {history(lambda ack: ack.mac == mac, lambda _, ip: ip)}")

    missing_total = 0
    for server, path in args.log:
        try:
            logged = set(LOG_ACK.findall(path.read_text(errors="replace")))
        except OSError as error:
            print(f"lease_check: {error}", file=sys.stderr)
            return 2
        seen = {(a.mac, a.ip) for a in acks if a.server == server}
        missing = sorted(logged - seen)
        missing_total += len(missing)
        if missing:
            print(f"INCOMPLETE CAPTURE: {len(missing)} (MAC, address) pairs {server} logged as ACKed are not in its captures, "
                  f"e.g. {', '.join(f'{m} {i}' for m, i in missing[:5])}")
    if missing_total and status == 0:
        status = 3

    per_server = defaultdict(int)
    for ack in acks:
        per_server[ack.server] += 1
    servers_of_mac = defaultdict(set)
    for ack in acks:
        servers_of_mac[ack.mac].add(ack.server)
    if args.events:
        with args.events.open("w") as out:
            for ack in acks:
                out.write(f"{ack.seconds:.6f} {ack.server} {ack.mac} {ack.ip} {ack.lease_time}\n")
    names = sorted({server for server, _ in args.captures})
    print("lease_check: ACKs " + " ".join(f"{name}={per_server[name]}" for name in names)
          + f"; distinct MACs {len(held)}; distinct addresses {len(holders)}"
          + f"; MACs ACKed by several servers {sum(1 for s in servers_of_mac.values() if len(s) > 1)}"
          + f"; duplicates {len(duplicates)} addresses ({sum(len(v) for v in duplicates.values())} conflicting ACKs)"
          + f"; changed addresses {len(changes)} MACs"
          + (f"; logged ACKs missing from the captures {missing_total}" if args.log else "")
          + f"; releases/declines {len(ends)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
