/// A set of option codes (0...255) held in four machine words, so that selection sets and
/// "seen" sets cost no heap allocation on the decode and encode paths.
public struct CodeSet: Hashable, Sendable, Sequence {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    @inlinable public init() {}

    public init<S: Sequence>(_ codes: S) where S.Element == UInt8 {
        for code in codes { insert(code) }
    }

    @inlinable @inline(__always) public func contains(_ code: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(code & 63)
        switch code >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    @inlinable @inline(__always) public mutating func insert(_ code: UInt8) {
        let bit = UInt64(1) << UInt64(code & 63)
        switch code >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    @inlinable @inline(__always) public mutating func remove(_ code: UInt8) {
        let bit = ~(UInt64(1) << UInt64(code & 63))
        switch code >> 6 {
        case 0: words.0 &= bit
        case 1: words.1 &= bit
        case 2: words.2 &= bit
        default: words.3 &= bit
        }
    }

    public var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    public var count: Int {
        words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount
    }

    public func makeIterator() -> AnyIterator<UInt8> {
        var next = 0
        let set = self
        return AnyIterator {
            while next < 256 {
                let code = UInt8(next)
                next += 1
                if set.contains(code) { return code }
            }
            return nil
        }
    }

    public static func == (lhs: CodeSet, rhs: CodeSet) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
