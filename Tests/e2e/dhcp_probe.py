#!/usr/bin/env python3
"""Sends hand-made DHCP packets from inside a test namespace and prints what comes back.

Used by the end-to-end tests for the cases real clients cannot be made to produce on demand:
INIT-REBOOT for a wrong address, malformed datagrams, floods from one MAC. Standard library only.

    dhcp_probe.py --server 192.0.2.1 --source 192.0.2.77 --mac 02:00:00:00:00:01 \
        --type request --requested 192.0.2.99          # prints the reply type: NAK, ACK, ... or NONE
    dhcp_probe.py --server 192.0.2.1 --source 192.0.2.77 --garbage 20   # sends 20 malformed datagrams
    dhcp_probe.py --server 198.51.100.1 --source 198.51.100.2 --giaddr 198.51.100.2 \
        --truncate overlong                             # a relayed DISCOVER whose last option is cut off
"""
import argparse
import os
import random
import socket
import struct
import sys

TYPES = {"discover": 1, "request": 3, "decline": 4, "release": 7, "inform": 8}
NAMES = {2: "OFFER", 5: "ACK", 6: "NAK"}


# How --truncate ends the datagram instead of END: an option 12 declaring 200 bytes with 5 left, or
# a lone code byte with no length (docs/PROTOCOL.md §6 item 17: both are ignored, the rest used).
TRUNCATED_TAILS = {"overlong": bytes([12, 200]) + b"short", "code": bytes([12])}


def build(mac, message_type, xid, requested=None, server_id=None, ciaddr="0.0.0.0", giaddr="0.0.0.0", broadcast=False,
          hostname=None, truncate=None):
    header = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        1, 1, 6, 0, xid, 0, 0x8000 if broadcast else 0,
        socket.inet_aton(ciaddr), socket.inet_aton("0.0.0.0"), socket.inet_aton("0.0.0.0"),
        socket.inet_aton(giaddr), bytes.fromhex(mac.replace(":", "")) + bytes(10), bytes(64), bytes(128),
    )
    options = bytes([99, 130, 83, 99, 53, 1, message_type])
    if requested:
        options += bytes([50, 4]) + socket.inet_aton(requested)
    if server_id:
        options += bytes([54, 4]) + socket.inet_aton(server_id)
    if hostname:
        name = hostname.encode("utf-8")[:255]
        options += bytes([12, len(name)]) + name
    options += bytes([55, 4, 1, 3, 6, 15])
    return header + options + (TRUNCATED_TAILS[truncate] if truncate else bytes([255]))


def options(data):
    found = {}
    position = 240
    while position + 1 < len(data):
        code = data[position]
        if code == 255:
            break
        if code == 0:
            position += 1
            continue
        length = data[position + 1]
        found[code] = found.get(code, b"") + data[position + 2 : position + 2 + length]
        position += 2 + length
    return found


def reply_type(data, xid, show_option=None, sender=None):
    if len(data) < 240 or struct.unpack("!I", data[4:8])[0] != xid:
        return None
    found = options(data)
    if 53 not in found or not found[53]:
        return None
    kind = NAMES.get(found[53][0], str(found[53][0]))
    if show_option is not None:
        kind += " " + found.get(show_option, b"").decode("utf-8", "replace")
    if sender is not None:
        server_id = found.get(54, b"")
        kind += " from " + sender + " server-id " + (socket.inet_ntoa(server_id) if len(server_id) == 4 else "none")
    return kind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--source", required=True, help="the address to send from (client side)")
    parser.add_argument("--port", type=int, default=67)
    parser.add_argument("--mac", default="02:00:00:00:00:01")
    parser.add_argument("--type", choices=sorted(TYPES), default="discover")
    parser.add_argument("--requested")
    parser.add_argument("--server-id")
    parser.add_argument("--ciaddr", default="0.0.0.0")
    parser.add_argument("--hostname", help="send this name as option 12")
    parser.add_argument("--giaddr", default="0.0.0.0",
                        help="act as a relay: set giaddr and listen on port 67 for the reply (run it with --source = giaddr)")
    parser.add_argument("--truncate", choices=sorted(TRUNCATED_TAILS),
                        help="end the datagram inside an option instead of with END")
    parser.add_argument("--count", type=int, default=1, help="send this many and count the replies")
    parser.add_argument("--garbage", type=int, default=0, help="send this many malformed datagrams instead")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--show-option", type=int, help="also print this option of the reply, as text")
    parser.add_argument("--show-server", action="store_true",
                        help="also print the reply's source address and its server identifier (option 54)")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.source, 67 if args.giaddr != "0.0.0.0" else 68))
    sock.settimeout(args.timeout)

    if args.garbage:
        rng = random.Random(7)
        valid = build(args.mac, 1, 1)
        samples = [b"", b"\x01", os.urandom(100), valid[:239], valid[:236] + b"\x00\x00\x00\x00" + valid[240:],
                   valid[:-1] + b"\x35", valid + b"\x0c\xff"]
        for index in range(args.garbage):
            if index < len(samples):
                payload = samples[index]
            else:
                payload = bytearray(valid)
                for _ in range(rng.randint(1, 8)):
                    payload[rng.randrange(len(payload))] = rng.randrange(256)
                payload = bytes(payload[: rng.randint(0, len(payload))])
            sock.sendto(payload, (args.server, args.port))
        print("SENT", args.garbage)
        return 0

    replies = []
    for index in range(args.count):
        xid = random.getrandbits(32)
        packet = build(args.mac, TYPES[args.type], xid, args.requested, args.server_id, args.ciaddr, giaddr=args.giaddr,
                       hostname=args.hostname, truncate=args.truncate)
        sock.sendto(packet, (args.server, args.port))
        try:
            while True:
                data, (sender, _) = sock.recvfrom(4096)
                kind = reply_type(data, xid, args.show_option, sender if args.show_server else None)
                if kind:
                    replies.append(kind)
                    break
        except socket.timeout:
            replies.append("NONE")
    if args.count == 1:
        print(replies[0])
    else:
        print(" ".join(f"{kind}={replies.count(kind)}" for kind in sorted(set(replies))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
