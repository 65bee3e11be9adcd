"""Reads DHCP messages out of a classic pcap capture with Ethernet framing (what tcpdump -w writes
on a veth). Shared by the MAC check (macs.py) and the wire-latency run (wire.py)."""
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

DHCP_MAGIC = b"\x63\x82\x53\x63"
PCAP_MICROSECONDS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
PCAP_NANOSECONDS = (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


class CaptureError(RuntimeError):
    pass


@dataclass(frozen=True)
class DhcpFrame:
    seconds: float            # the kernel's timestamp of the frame at the packet tap
    op: int                   # 1 BOOTREQUEST (from a client or relay), 2 BOOTREPLY (from a server)
    xid: int
    chaddr: str               # "aa:bb:cc:dd:ee:ff"
    message_type: Optional[int]   # option 53, None when absent or beyond the captured bytes
    client_id: Optional[str]      # option 61 as "01:aa:..."


def options(payload: bytes) -> dict:
    """The options of a BOOTP payload by code (the 240-byte header skipped); an option cut off by
    the snapshot length, and everything after it, is left out."""
    found, position, data = {}, 0, payload[240:]
    while position + 1 < len(data) and data[position] != 255:
        code = data[position]
        if code == 0:
            position += 1
            continue
        length = data[position + 1]
        value = data[position + 2:position + 2 + length]
        if len(value) < length:
            break
        found.setdefault(code, value)
        position += 2 + length
    return found


def bootp_payloads(path: Path, empty_ok: bool = False) -> Iterator[tuple]:
    """(timestamp, BOOTP payload) of every DHCP message of the capture, in capture order, 802.1Q
    and 802.1ad tags skipped; other frames, and a last record cut short, are left out. An empty
    capture (tcpdump started and stopped with nothing seen) is an error unless `empty_ok`."""
    data = path.read_bytes()
    if len(data) < 24:
        if empty_ok:
            return
        raise CaptureError(f"capture {path} is empty")
    magic = data[:4]
    if magic not in PCAP_MICROSECONDS + PCAP_NANOSECONDS:
        raise CaptureError(f"capture {path} is not a classic pcap file")
    endian = "<" if magic in (PCAP_MICROSECONDS[0], PCAP_NANOSECONDS[0]) else ">"
    fraction = 1e-9 if magic in PCAP_NANOSECONDS else 1e-6
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        raise CaptureError(f"capture {path} is not Ethernet (linktype 1)")
    offset = 24
    while offset + 16 <= len(data):
        seconds, subseconds, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        if len(frame) < captured:
            break
        ethertype_at = 12
        while frame[ethertype_at:ethertype_at + 2] in (b"\x81\x00", b"\x88\xa8"):
            ethertype_at += 4
        ip_at = ethertype_at + 2
        if len(frame) < ip_at + 20 or frame[ethertype_at:ip_at] != b"\x08\x00" or frame[ip_at + 9] != 17:
            continue
        bootp = frame[ip_at + (frame[ip_at] & 0x0F) * 4 + 8:]
        if len(bootp) < 240 or bootp[236:240] != DHCP_MAGIC:
            continue
        yield seconds + subseconds * fraction, bootp


def dhcp_frames(path: Path) -> Iterator[DhcpFrame]:
    """Every DHCP message of the capture, in capture order; other frames are skipped."""
    for seconds, bootp in bootp_payloads(path):
        found = options(bootp)
        message_type = found[53][0] if len(found.get(53, b"")) == 1 else None
        client_id = found[61].hex(":") if 61 in found else None
        yield DhcpFrame(seconds, bootp[0], struct.unpack(">I", bootp[4:8])[0],
                        ":".join(f"{b:02x}" for b in bootp[28:34]), message_type, client_id)
