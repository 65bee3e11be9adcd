#if canImport(Glibc)
import Glibc
#endif

/// A read-only view of the header of a WAL-mode database's wal-index (the `-shm` file), used to
/// tell whether anything was committed since a moment, without a system call.
///
/// Every commit in WAL mode rewrites the wal-index header (its change counter, frame count and
/// checksums; SQLite's file-format document, "WAL-index format") before readers can see it. So
/// while the first 48 bytes are the same as when a read transaction began, that transaction
/// still sees every committed row. `SQLiteLookupConnection` uses this to keep one read
/// transaction across lookups, instead of taking and dropping the file locks (two `fcntl` and an
/// `fstat`) for each.
final class WALIndexWatch {
    /// The header's first copy; SQLite keeps two and a reader that catches a writer mid-update
    /// sees a difference, which only costs a fresh transaction.
    static let headerBytes = 48

    private let mapping: UnsafeMutableRawPointer
    private let length: Int

    /// nil when the `-shm` file is missing or too short to hold a header (not in WAL mode, or
    /// not yet used): the caller then takes a transaction per lookup, as before.
    init?(databasePath: String) {
        let fd = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        // SQLite grows the file in 32 KiB regions and never shrinks it while a connection (this
        // one) has the database open, so mapping one page that exists now stays valid.
        guard fstat(fd, &status) == 0, status.st_size >= Int(sysconf(Int32(_SC_PAGESIZE))) else { return nil }
        length = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else { return nil }
        mapping = mapped
    }

    deinit {
        munmap(mapping, length)
    }

    /// The header as it is now.
    func header() -> Header {
        var copy = Header()
        withUnsafeMutableBytes(of: &copy.bytes) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: mapping, count: Self.headerBytes))
        }
        return copy
    }

    struct Header: Equatable {
        var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

        static func == (lhs: Header, rhs: Header) -> Bool {
            lhs.bytes.0 == rhs.bytes.0 && lhs.bytes.1 == rhs.bytes.1 && lhs.bytes.2 == rhs.bytes.2
                && lhs.bytes.3 == rhs.bytes.3 && lhs.bytes.4 == rhs.bytes.4 && lhs.bytes.5 == rhs.bytes.5
        }
    }
}
