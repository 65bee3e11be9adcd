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


def _options(options: bytes) -> tuple:
    message_type, client_id, position = None, None, 0
    while position + 1 < len(options) and options[position] != 255:
        code = options[position]
        if code == 0:
            position += 1
            continue
        length = options[position + 1]
        value = options[position + 2:position + 2 + length]
        if len(value) < length:
            break  # cut off by the snapshot length
        if code == 53 and length == 1:
            message_type = value[0]
        elif code == 61:
            client_id = value.hex(":")
        position += 2 + length
    return message_type, client_id


def dhcp_frames(path: Path) -> Iterator[DhcpFrame]:
    """Every DHCP message of the capture, in capture order; other frames are skipped."""
    data = path.read_bytes()
    if len(data) < 24:
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
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ip_header = (frame[14] & 0x0F) * 4
        bootp = frame[14 + ip_header + 8:]
        if len(bootp) < 240 or bootp[236:240] != DHCP_MAGIC:
            continue
        message_type, client_id = _options(bootp[240:])
        yield DhcpFrame(seconds + subseconds * fraction, bootp[0], struct.unpack(">I", bootp[4:8])[0],
                        ":".join(f"{b:02x}" for b in bootp[28:34]), message_type, client_id)
