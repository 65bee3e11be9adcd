import DHCPWire

/// A database that can answer some lookups at once, on the caller's thread.
///
/// The engine asks this first and awaits `lookupMAC` only when the answer is `nil` ("not without
/// waiting"). Local sources (an SQLite file, an INI table, a warm memory cache) answer in a few
/// microseconds, far less than a suspension and a hop between executors would cost; remote ones
/// (PostgreSQL, HTTP, memcached) never answer here, so a slow network cannot stall the engine.
///
/// The engine calls this on its own serial executor, the one that owns the scripts' Lua state:
/// an implementation must not wait on the network or on anything that waits for the engine.
public protocol ImmediateLookup: Database {
    /// The definitions for `mac` (empty when unknown), or nil when only `lookupMAC` can tell.
    /// Throws as `lookupMAC` does when the source is broken.
    func lookupImmediately(_ mac: MAC) throws -> [Definition]?

    /// Called about once a second by the engine: give back whatever was kept between lookups to
    /// make them cheaper (SQLite's read transaction in WAL mode), so nothing is held while idle.
    func endReadSnapshot()
}

extension ImmediateLookup {
    public func endReadSnapshot() {}
}

extension NullDatabase: ImmediateLookup {
    public func lookupImmediately(_ mac: MAC) throws -> [Definition]? { [] }
}

extension TimeoutDatabase: ImmediateLookup {
    /// A local backend's immediate answer needs no deadline; anything else goes the slow way.
    public func lookupImmediately(_ mac: MAC) throws -> [Definition]? {
        try immediateBackend?.lookupImmediately(mac)
    }

    public func endReadSnapshot() {
        immediateBackend?.endReadSnapshot()
    }
}

extension INIDatabase: ImmediateLookup {}
