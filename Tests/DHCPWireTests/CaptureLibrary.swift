import Foundation

/// The real client packets under Captures/ (hex files, one datagram each; see Captures/README.md),
/// and the hand-made ones under Crafted/ (Crafted/README.md).
enum CaptureLibrary {
    struct Capture {
        let name: String
        let bytes: [UInt8]
    }

    static func all() -> [Capture] { read("Captures") }

    /// The crafted packets: truncated options and overload.
    static func crafted() -> [Capture] { read("Crafted") }

    private static func read(_ resource: String) -> [Capture] {
        guard let folder = Bundle.module.url(forResource: resource, withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter { $0.hasSuffix(".hex") }.sorted().compactMap { name in
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
            return Capture(name: String(name.dropLast(4)), bytes: hex(text))
        }
    }

    static func named(_ name: String) -> [UInt8]? { all().first { $0.name == name }?.bytes }
}
