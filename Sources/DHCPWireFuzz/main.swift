// libFuzzer entry point for the decoder: decode; when that succeeds, encode and decode again,
// and check that the re-decoded packet agrees. Built only by scripts/fuzz (-sanitize=fuzzer).
import DHCPWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    guard let packet = try? DHCPPacket(decoding: buffer) else { return 0 }
    let encoded = packet.encode()
    guard let again = try? DHCPPacket(decoding: encoded) else {
        fatalError("an encoded packet failed to decode")
    }
    // A one-byte option 53 always fits first in the options area, so it must survive.
    let typeSurvives = packet.option(53)?.count != 1 || again.messageType == packet.messageType
    if again.xid != packet.xid || !typeSurvives {
        fatalError("re-decoding changed the header or message type")
    }
    _ = packet.description
    return 0
}

#if FUZZING
// SwiftPM links executables with `main` aliased to `DHCPWireFuzz_main`, which a -parse-as-library
// build does not define; defining it here and handing control to libFuzzer's driver keeps the
// ordinary SwiftPM executable product working with -sanitize=fuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("DHCPWireFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
// An ordinary build (no -sanitize=fuzzer, as `swift build` makes for the whole package) links a
// stub whose empty top level does nothing; only scripts/fuzz builds the real fuzzer.
#endif
