import DHCPWire

/// Bytes from a hex string; spaces are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// A 236-byte request header (before the cookie): op 1, htype 1, hlen 6, the test xid and chaddr.
func vectorHeader() -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 236)
    header[0] = 1; header[1] = 1; header[2] = 6
    header[4...7] = [0x39, 0x03, 0xF3, 0x26]
    header[28...33] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]
    return header
}
