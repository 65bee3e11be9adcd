import DHCPWire
import GRDBSQLite

/// One read-only SQLite connection with the definition query prepared once: the engine's
/// immediate path (`SQLiteDatabase.lookupImmediately`).
///
/// Why not GRDB here: a GRDB pool read wraps every lookup in a transaction on a dispatch queue,
/// which cost more than the query itself (a profile under perfdhcp put it at half the daemon's
/// CPU). A lone SELECT in autocommit mode is already a consistent snapshot, so the connection
/// runs the prepared statement directly. Everything else (the async path, the reservations tool,
/// the web editor) still goes through GRDB.
///
/// In WAL mode, consecutive lookups also share one read transaction for as long as nothing is
/// committed (`WALIndexWatch` sees each commit in the wal-index header, without a system call):
/// taking and dropping the read locks for every lookup cost two `fcntl` and an `fstat`, more
/// than the query itself. Each lookup still sees every row committed before it started; a
/// transaction is never kept past `snapshotLimit`, and the engine's 1 Hz tick ends an idle one
/// (`endSnapshot`), so the WAL can be checkpointed and reset behind it.
///
/// In WAL mode the rows already read are kept by MAC (`recentRows`) and answered again without a
/// query for as long as nothing is committed to the file: each new read transaction first reads
/// `PRAGMA data_version`, which changes with every commit by any other connection, and forgets
/// them all when it has. A lookup therefore returns what a query would at that moment, and a
/// change made with the web editor, `staticdhcpd db` or `sqlite3` is seen exactly as soon as
/// before (docs/ARCHITECTURE.md, "SQLite read transactions"). A MAC that comes back (the RELEASE
/// after its ACK, the DISCOVER of a returning client, a renewal) then costs a dictionary lookup
/// instead of a query: 11-12 % of the CPU per exchange under perfdhcp (docs/BENCHMARK.md).
///
/// Not thread-safe by itself; `SQLiteDatabase` serialises access with a lock.
final class SQLiteLookupConnection {
    private var connection: OpaquePointer?
    private var statement: OpaquePointer?
    private let path: String
    private let extraKeys: [String]
    private var begin: OpaquePointer?
    private var commit: OpaquePointer?
    private var dataVersion: OpaquePointer?
    /// Rows read since the last commit to the file, by MAC (an empty list: no row), while a
    /// read transaction is kept; at most `recentRowsLimit` of them.
    private var recentRows: [MAC: [Definition]] = [:]
    /// `PRAGMA data_version` when `recentRows` were read.
    private var recentVersion: Int64?
    /// About 530 bytes each (10,000 added 5.3 MB of RSS), so at most about 9 MB however many
    /// reservations or MACs there are. When full it starts again empty.
    static let recentRowsLimit = 16_384
    /// Set up at the first lookup: nil outside WAL mode.
    private var watch: WALIndexWatch?
    private var watchChecked = false
    /// The open read transaction: the wal-index header when it began, and when.
    private var snapshot: (header: WALIndexWatch.Header, since: ContinuousClock.Instant)?
    /// The longest one read transaction serves lookups, whatever the header says.
    static let snapshotLimit: Duration = .seconds(1)
    /// SQLite's page cache for this connection, in KiB (its default is 2,000). A lookup reads a
    /// handful of pages: the interior pages of the two B-trees stay cached, and leaf pages missed
    /// come from the kernel's page cache in about a microsecond. With 100,000 reservations the
    /// default cache filled to 2 MB of heap for a hit rate of about a quarter.
    static let pageCacheKiB = 512

    /// How long a lookup waits for a writer's lock in rollback-journal mode (a commit takes
    /// milliseconds). In WAL mode, which the reservations tool sets, readers never wait.
    static let busyMilliseconds: Int32 = 20

    init(path: String, sql: String, extraKeys: [String]) throws {
        self.path = path
        self.extraKeys = extraKeys
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        var handle: OpaquePointer?
        let opened = sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(opened))
            sqlite3_close(handle)
            throw DatabaseError.unavailable(engine: "SQLite", reason: "cannot open \(path): \(reason)")
        }
        connection = handle
        sqlite3_busy_timeout(handle, Self.busyMilliseconds)
        sqlite3_exec(handle, "PRAGMA cache_size = -\(Self.pageCacheKiB)", nil, nil, nil)
        var prepared: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil) == SQLITE_OK else {
            let reason = String(cString: sqlite3_errmsg(handle))
            sqlite3_close(handle)
            connection = nil
            throw DatabaseError.sqlite(path: path, message: reason)
        }
        statement = prepared
        sqlite3_prepare_v3(handle, "BEGIN", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &begin, nil)
        sqlite3_prepare_v3(handle, "COMMIT", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &commit, nil)
        sqlite3_prepare_v3(handle, "PRAGMA data_version", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &dataVersion, nil)
    }

    deinit {
        endSnapshot()
        sqlite3_finalize(begin)
        sqlite3_finalize(commit)
        sqlite3_finalize(dataVersion)
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// Whether a read transaction is open across lookups (tests).
    var holdsSnapshot: Bool { snapshot != nil }

    /// How many MACs' rows are kept (tests).
    var recentRowCount: Int { recentRows.count }

    /// Ends the read transaction kept across lookups, if any.
    func endSnapshot() {
        guard snapshot != nil, let commit else { return }
        snapshot = nil
        sqlite3_step(commit)
        sqlite3_reset(commit)
    }

    /// Before a lookup: keeps the open read transaction if nothing was committed since it began,
    /// otherwise starts a new one (WAL mode only; elsewhere each SELECT is its own transaction).
    private func prepareSnapshot() {
        if !watchChecked {
            watchChecked = true
            watch = isWAL() ? WALIndexWatch(databasePath: path) : nil
        }
        guard let watch, let begin else { return }
        let now = ContinuousClock.now
        // Read before BEGIN: a commit landing in between only makes the next lookup start afresh.
        let current = watch.header()
        if let open = snapshot {
            if open.header == current && now - open.since < Self.snapshotLimit { return }
            endSnapshot()
        }
        let started = sqlite3_step(begin)
        sqlite3_reset(begin)
        guard started == SQLITE_DONE else { return }
        snapshot = (current, now)
        forgetRecentRowsIfCommitted()
    }

    /// Reads `PRAGMA data_version`, which also takes the new transaction's snapshot, and
    /// forgets the rows kept when anything was committed since they were read. Without an
    /// answer the snapshot is given back, so the next lookups query as without one.
    private func forgetRecentRowsIfCommitted() {
        guard let dataVersion else { return endSnapshot() }
        let stepped = sqlite3_step(dataVersion)
        let version = stepped == SQLITE_ROW ? sqlite3_column_int64(dataVersion, 0) : nil
        sqlite3_reset(dataVersion)
        guard let version else {
            recentRows.removeAll()
            return endSnapshot()
        }
        if version != recentVersion {
            recentRows.removeAll(keepingCapacity: true)
            recentVersion = version
        }
    }

    private func remember(_ rows: [Definition], for mac: MAC) -> [Definition] {
        guard snapshot != nil else { return rows }
        if recentRows.count >= Self.recentRowsLimit { recentRows.removeAll(keepingCapacity: true) }
        recentRows[mac] = rows
        return rows
    }

    private func isWAL() -> Bool {
        var pragma: OpaquePointer?
        guard sqlite3_prepare_v2(connection, "PRAGMA journal_mode", -1, &pragma, nil) == SQLITE_OK else { return false }
        defer { sqlite3_finalize(pragma) }
        guard sqlite3_step(pragma) == SQLITE_ROW, let text = sqlite3_column_text(pragma, 0) else { return false }
        return String(cString: text).lowercased() == "wal"
    }

    /// The row for `mac`, read and validated, or an empty list.
    func lookup(_ mac: MAC) throws -> [Definition] {
        guard let statement else { return [] }
        prepareSnapshot()
        if snapshot != nil, let rows = recentRows[mac] { return rows }
        // Every lookup binds the parameter afresh, so the bindings need no clearing.
        defer { sqlite3_reset(statement) }
        // SQLite copies the text into the statement's own buffer, which it keeps between lookups.
        let bound = mac.withText { text in
            text.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text(statement, 1, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT_VALUE)
            }
        }
        guard bound == SQLITE_OK else { throw failure() }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            let row = RawRow(statement: statement, macAddress: mac)
            if extraKeys.isEmpty, let definition = row.plainDefinition() { return remember([definition], for: mac) }
            return remember([try row.record(extraKeys: extraKeys).definition(for: mac)], for: mac)
        case SQLITE_DONE:
            return remember([], for: mac)
        default:
            throw failure()
        }
    }

    private func failure() -> DatabaseError {
        let error = DatabaseError.sqlite(path: path, message: String(cString: sqlite3_errmsg(connection)))
        endSnapshot()
        return error
    }
}

/// SQLITE_TRANSIENT: SQLite copies the bound text (the C macro does not import into Swift).
private let SQLITE_TRANSIENT_VALUE = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The current row of the definition query, read with the same rules as GRDB's `SQLiteRow`.
private struct RawRow: DefinitionRow {
    let statement: OpaquePointer
    let macAddress: MAC
    /// Formatted only when an error message names it.
    var mac: String { macAddress.description }

    private func type(_ index: Int32) -> Int32 { sqlite3_column_type(statement, index) }

    /// The common row, decoded straight from SQLite's buffers: addresses in plain dotted quads,
    /// integers stored as integers, no blank-but-not-empty text. nil for anything else, which then
    /// takes the general path (`record` + `DefinitionRecord.definition`) with its lenient parsing
    /// and its errors naming the column. Saves a String per address column and its parsing.
    func plainDefinition() -> Definition? {
        typealias C = DefinitionQuery.Column
        guard type(Int32(C.leaseTime)) == SQLITE_INTEGER, type(Int32(C.serial)) == SQLITE_INTEGER,
              type(Int32(C.subnet)) == SQLITE_TEXT,
              let ip = address(C.ip) ?? nil,
              let gateways = addressList(C.gateway), let subnetMask = address(C.subnetMask),
              let broadcast = address(C.broadcastAddress), let dns = addressList(C.domainNameServers),
              let ntp = addressList(C.ntpServers),
              let hostname = plainText(C.hostname), let domainName = plainText(C.domainName) else { return nil }
        let leaseTime = sqlite3_column_int64(statement, Int32(C.leaseTime))
        let serial = sqlite3_column_int64(statement, Int32(C.serial))
        guard leaseTime >= 0, leaseTime <= Int64(UInt32.max), let serialValue = Int(exactly: serial) else { return nil }
        return Definition(
            ip: ip, leaseTime: UInt32(leaseTime), subnet: rawText(Int32(C.subnet)), serial: serialValue,
            hostname: hostname, gateways: gateways, subnetMask: subnetMask, broadcastAddress: broadcast,
            domainName: domainName, domainNameServers: dns, ntpServers: ntp)
    }

    private func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        let count = Int(sqlite3_column_bytes(statement, column))
        return UnsafeBufferPointer(start: sqlite3_column_text(statement, column), count: count)
    }

    /// What the plain readers below see in a column: NULL and empty text alike are no value.
    private enum PlainColumn {
        case none
        case text(UnsafeBufferPointer<UInt8>)
        /// Not text: the row takes the general path.
        case other
    }

    private func plainColumn(_ index: Int) -> PlainColumn {
        let column = Int32(index)
        switch type(column) {
        case SQLITE_NULL: return .none
        case SQLITE_TEXT:
            let text = bytes(column)
            return text.isEmpty ? .none : .text(text)
        default: return .other
        }
    }

    /// `.some(nil)` for NULL or empty, `.some(address)` for a plain address, nil otherwise.
    private func address(_ index: Int) -> IPv4?? {
        switch plainColumn(index) {
        case .none: return .some(nil)
        case .text(let text): return IPv4(plainDottedQuad: text).map { .some($0) }
        case .other: return nil
        }
    }

    /// A comma-separated list of plain addresses (NULL or empty: none); nil otherwise.
    private func addressList(_ index: Int) -> [IPv4]? {
        switch plainColumn(index) {
        case .none: return []
        case .text(let text):
            var list: [IPv4] = []
            var start = 0
            for end in 0...text.count where end == text.count || text[end] == UInt8(ascii: ",") {
                guard let address = IPv4(plainDottedQuad: UnsafeBufferPointer(rebasing: text[start..<end])) else { return nil }
                list.append(address)
                start = end + 1
            }
            return list
        case .other: return nil
        }
    }

    /// `.some(nil)` for NULL or empty, the text when it has no surrounding whitespace, nil otherwise.
    private func plainText(_ index: Int) -> String?? {
        switch plainColumn(index) {
        case .none: return .some(nil)
        case .text(let text):
            let blank: (UInt8) -> Bool = { $0 == 32 || (9...13).contains($0) || $0 >= 0x80 }
            if blank(text[0]) || blank(text[text.count - 1]) { return nil }
            return .some(String(decoding: text, as: UTF8.self))
        case .other: return nil
        }
    }

    private func rawText(_ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func text(_ index: Int) -> String? {
        let column = Int32(index)
        switch type(column) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return String(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return String(sqlite3_column_double(statement, column))
        default: return rawText(column)
        }
    }

    func integer(_ index: Int, column name: String) throws -> Int64? {
        let column = Int32(index)
        switch type(column) {
        case SQLITE_NULL:
            return nil
        case SQLITE_INTEGER:
            return sqlite3_column_int64(statement, column)
        case SQLITE_FLOAT:
            let number = sqlite3_column_double(statement, column)
            if number == number.rounded() && abs(number) < 9e18 { return Int64(number) }
        default:
            if let number = Int64(rawText(column).trimmingCharacters()) { return number }
        }
        throw DatabaseError.malformedRecord(mac: mac, column: name, value: text(index) ?? "?", reason: "not an integer")
    }

    func extraValue(_ index: Int) -> ExtraValue? {
        let column = Int32(index)
        switch type(column) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return .integer(Int(sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, column))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .string("") }
            let buffer = UnsafeRawBufferPointer(start: bytes, count: count)
            return .string(buffer.map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
            }.joined())
        default: return .string(rawText(column))
        }
    }
}
