import Databases
import Foundation
import Scripting
import Testing

/// A runtime with a store in a fresh state directory; `init()` is called when conf.lua has one.
func makeStoredRuntime(_ source: String, directory: String? = nil, extensions: [String: String] = [:],
                       limits: ScriptLimits = .default) throws -> (ScriptRuntime, LogRecorder, KeyValueStore) {
    let (runtime, log) = try makeRuntime(source, limits: limits, extensions: extensions)
    let stateDirectory = directory ?? runtime.settings.resolvedStateDirectory(configFile: runtime.configFile)
    let store = try KeyValueStore(directory: stateDirectory)
    runtime.attachStore(store)
    try runtime.callInit()
    return (runtime, log, store)
}

/// Runs `chunk` (the body of a function) through a web method and returns what it returned, as text.
func evaluate(_ runtime: ScriptRuntime, _ chunk: String) throws -> String {
    // conf.lua defines `probe(code)`; see `probeSource`.
    let registrations = runtime.webRegistrations()
    guard let method = registrations.methods.first(where: { $0.path == "/probe" }) else {
        throw ScriptError(.badResult, "no /probe method")
    }
    let result = try runtime.callWebCallback(id: method.id, request: WebCallbackRequest(path: "/probe", queryArguments: ["code": [chunk]]))
    switch result {
    case .fragment(let text): return text
    case .none: return "nil"
    case .content(_, let data, _): return String(decoding: data, as: UTF8.self)
    }
}

/// A web method that runs `queryargs.code[1]` as a chunk and returns tostring of its result, so a
/// test can execute Lua after init() the way callbacks do.
let probeSource = """
callbacks.webAddMethod("/probe", function(path, q)
  local chunk = assert(load(q.code[1], "=probe", "t"))
  return tostring(chunk())
end)

"""

@Suite struct StoreTests {
    @Test func roundTripsEveryKindOfValue() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        let result = try evaluate(runtime, """
            store.put("s", "héllo \\"q\\"\\n\\t")
            store.put("i", 42); store.put("f", 1.0); store.put("neg", -7.25e-3); store.put("big", math.maxinteger)
            store.put("b", false)
            store.put("t", { list = {1, 2.5, "x", true}, nested = { a = { b = "deep" } }, [7] = "seven", ["#tag"] = 1, empty = {} })
            local t = store.get("t")
            assert(store.get("s") == "héllo \\"q\\"\\n\\t")
            assert(math.type(store.get("i")) == "integer" and store.get("i") == 42)
            assert(math.type(store.get("f")) == "float" and store.get("f") == 1.0)
            assert(store.get("neg") == -7.25e-3)
            assert(store.get("big") == math.maxinteger)
            assert(store.get("b") == false)
            assert(t.list[1] == 1 and t.list[2] == 2.5 and t.list[3] == "x" and t.list[4] == true and #t.list == 4)
            assert(t.nested.a.b == "deep")
            assert(t[7] == "seven" and t["7"] == nil)
            assert(t["#tag"] == 1)
            assert(type(t.empty) == "table" and next(t.empty) == nil)
            assert(store.get("missing") == nil)
            return "ok"
            """)
        #expect(result == "ok")
    }

    @Test func scanReturnsPairsInKeyOrderUnderThePrefix() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        let result = try evaluate(runtime, """
            for _, k in ipairs({"p/c", "p/a", "q/x", "p/b", "p", "o"}) do store.put(k, k:upper()) end
            local out = {}
            for _, e in ipairs(store.scan("p/")) do out[#out + 1] = e.key .. "=" .. e.value end
            local limited = store.scan("p/", 2)
            return table.concat(out, ",") .. "|" .. #limited .. "|" .. #store.scan() .. "|" .. store.count()
            """)
        #expect(result == "p/a=P/A,p/b=P/B,p/c=P/C|2|6|6")
    }

    @Test func deleteReportsWhetherTheKeyExisted() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        let result = try evaluate(runtime, """
            store.put("k", 1)
            return tostring(store.delete("k")) .. tostring(store.delete("k")) .. tostring(store.get("k"))
            """)
        #expect(result == "truefalsenil")
    }

    @Test func getsAndCasCompareWhatIsStored() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(runtime, """
            local out = {}
            local function add(...) for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end end
            add(store.gets("k"))                         -- nil nil
            add(store.cas("k", {n = 1}, nil))            -- true, token: only when absent
            local v, t = store.gets("k")
            add(v.n, t == select(2, store.cas("k", {n = 1}, t)))  -- rewriting the same value keeps its token
            add(store.cas("k", {n = 2}, nil))            -- false {n=1} token: present
            local ok, current = store.cas("k", {n = 3}, '{"n":0}')
            add(ok, current.n)                           -- false 1: stale token
            local _, token = store.gets("k")
            add(store.cas("k", nil, token))              -- true nil: deleted
            add(store.get("k"))
            store.put("a", 1); store.put("b", "two")
            local values, tokens = store.getMany({"a", "b", "missing"})
            add(values.a, values.b, values.missing, tokens.b)
            return table.concat(out, " ")
            """).replacingOccurrences(of: #"table: 0x[0-9a-f]+"#, with: "table", options: .regularExpression)
            == #"nil nil true {"n":1} 1 true false table {"n":1} false 1 true nil nil 1 two nil "two""#)
        let message = try evaluate(runtime, #"return select(2, pcall(store.cas, "k", 1, 5))"#)
        #expect(message.contains("the token must be a string"), "\(message)")
        let keys = try evaluate(runtime, #"return select(2, pcall(store.getMany, {"a", 7}))"#)
        #expect(keys.contains("key 2 must be a non-empty string"), "\(keys)")
    }

    /// store.cas(key, value, token, alsoKey, alsoValue): the second write happens with the first
    /// or not at all (dynamism's address claim and its L/<mac> index, in one round trip).
    @Test func casPutsAlongOnlyWhenItWrites() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(runtime, """
            local out = {}
            local function add(...) for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end end
            add((store.cas("A/1", {mac = "m"}, nil, "L/m", {ip = 1})))   -- true
            add(store.get("L/m").ip)                                      -- 1
            add((store.cas("A/1", {mac = "n"}, nil, "L/n", {ip = 1})))   -- false: A/1 is taken
            add(store.get("L/n"))                                         -- nil: not written
            local _, token = store.gets("A/1")
            add((store.cas("A/1", nil, token, "L/m", {ip = 2})))          -- true: a delete puts along too
            add(store.get("A/1"), store.get("L/m").ip)                    -- nil 2
            add((store.cas("A/9", nil, nil, "L/k", "x")), store.get("L/k")) -- true x: absent stays absent
            return table.concat(out, " ")
            """) == "true 1 false nil true nil 2 true x")
        for (call, words) in [
            (#"store.cas("A/2", 1, nil, "A/2", 2)"#, "is the key compared"),
            (#"store.cas("A/2", 1, nil, "L/x")"#, "needs a value"),
            (#"store.cas("A/2", 1, nil, 7, 2)"#, "the key to put along must be a string"),
            (#"store.cas("A/2", 1, nil, "", 2)"#, "must not be empty"),
        ] {
            let message = try evaluate(runtime, "return select(2, pcall(function() return \(call) end))")
            #expect(message.contains(words), "\(call): \(message)")
        }
        #expect(try evaluate(runtime, #"return tostring(store.get("A/2"))"#) == "nil")
    }

    @Test func updateIsAtomicAndAnErrorLeavesTheValueUnchanged() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(runtime, """
            for i = 1, 10 do store.update("n", function(old) return (old or 0) + 1 end) end
            return store.get("n")
            """) == "10")
        #expect(try evaluate(runtime, """
            local ok, message = pcall(store.update, "n", function(old) store.put("other", 1); error("boom") end)
            assert(not ok)
            assert(message:find("left unchanged"), message)
            assert(message:find("boom"), message)
            return tostring(store.get("n")) .. "/" .. tostring(store.get("other"))
            """) == "10/nil")
        #expect(try evaluate(runtime, """
            store.update("n", function(old) return nil end)
            return tostring(store.get("n"))
            """) == "nil")
    }

    @Test func transactionModesAreCheckedAndMeanTheSameOnSQLite() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(runtime, """
            local n = store.transaction(function() store.put("m", 1); return 1 end, "snapshot")
            n = n + store.transaction(function() return store.get("m") end, "serializable")
            local ok, message = pcall(store.transaction, function() store.put("m", 9) end, "eventual")
            assert(not ok and message:find('or "snapshot", got string "eventual"', 1, true), message)
            return n .. store.get("m")
            """) == "21")
    }

    @Test func transactionCommitsTogetherOrNotAtAll() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(runtime, """
            local a, b = store.transaction(function() store.put("x", 1); store.put("y", 2); return "a", "b" end)
            return a .. b .. store.get("x") .. store.get("y")
            """) == "ab12")
        #expect(try evaluate(runtime, """
            local ok, message = pcall(store.transaction, function()
              store.put("x", 100); store.delete("y")
              store.update("z", function() return 5 end)
              error("stop")
            end)
            assert(not ok and message:find("rolled back"), message)
            return store.get("x") .. store.get("y") .. tostring(store.get("z"))
            """) == "12nil")
    }

    @Test func unserialisableValuesGiveErrorsNamingThePlace() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        let cases: [(String, String)] = [
            ("store.put('k', function() end)", "value is a function"),
            ("store.put('k', {a = {b = {print}}})", "value.a.b[1] is a function"),
            ("store.put('k', {[true] = 1})", "key that is a true"),
            ("store.put('k', {[1.5] = 1})", "key that is a number 1.5"),
            ("store.put('k', 0/0)", "NaN and infinities"),
            ("store.put('k', math.huge)", "NaN and infinities"),
            ("store.put('k', '\\255\\254')", "not UTF-8"),
            ("local t = {}; t.self = t; store.put('k', t)", "more than 32 deep"),
            ("store.put('k', nil)", "use store.delete"),
            ("store.put('k')", "use store.delete"),
            ("store.put(1, 'v')", "key must be a string"),
            ("store.put('', 'v')", "must not be empty"),
            ("store.get({})", "key must be a string"),
            ("store.update('k', 5)", "must be a function"),
            ("store.update('k', function() return coroutine.create(print) end)", "value is a thread"),
            ("store.transaction('nope')", "must be a function"),
            ("store.scan(5)", "prefix must be a string"),
            ("store.scan('', -1)", "non-negative integer"),
            ("store.put(string.rep('k', 2000), 1)", "limit is 1024"),
        ]
        for (code, expected) in cases {
            let message = try evaluate(runtime, """
                local ok, message = pcall(function() \(code) end)
                if ok then return "no error" end
                return message
                """)
            #expect(message.contains(expected), "\(code) -> \(message)")
        }
        // Nothing was written by the failed puts.
        #expect(try evaluate(runtime, "return store.count()") == "0")
    }

    @Test func valuesSurviveANewRuntimeAndReopeningTheStore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        do {
            let (runtime, _, _) = try makeStoredRuntime(probeSource, directory: directory)
            _ = try evaluate(runtime, "store.put('lease/aa', {ip = '192.0.2.10', expires = 1234}); return 1")
        }
        let (runtime, _, store) = try makeStoredRuntime(probeSource, directory: directory)
        #expect(try evaluate(runtime, "local l = store.get('lease/aa'); return l.ip .. ' ' .. l.expires") == "192.0.2.10 1234")
        #expect(try store.get("lease/aa") == #"{"expires":1234,"ip":"192.0.2.10"}"#)
    }

    @Test func damagedStoredTextIsAnErrorNotCode() throws {
        let (runtime, _, store) = try makeStoredRuntime(probeSource)
        try store.put("bad", "os.exit(1)")
        try store.put("cut", #"{"a":[1,2"#)
        let message = try evaluate(runtime, """
            local ok1, m1 = pcall(store.get, "bad")
            local ok2, m2 = pcall(store.get, "cut")
            return tostring(ok1) .. tostring(ok2) .. " " .. m1 .. " " .. m2
            """)
        #expect(message.hasPrefix("falsefalse"))
        #expect(message.contains("damaged"))
    }

    @Test func theTopLevelCannotUseTheStoreAndSaysWhy() throws {
        #expect {
            _ = try makeRuntime("store.put('k', 1)\n")
        } throws: { error in
            (error as? ScriptError)?.description.contains("use it from init()") ?? false
        }
    }

    @Test func stateDirectorySettingIsValidatedAndResolved() throws {
        let (runtime, _) = try makeRuntime("STATE_DIRECTORY = 'var/state'\n")
        let base = runtime.configFile.deletingLastPathComponent().path
        #expect(runtime.settings.resolvedStateDirectory(configFile: runtime.configFile) == base + "/var/state")
        let (plain, _) = try makeRuntime("")
        #expect(plain.settings.resolvedStateDirectory(configFile: plain.configFile) == base.replacingOccurrences(of: base, with: plain.configFile.deletingLastPathComponent().path) + "/state")
        #expect(throws: ScriptError.self) { _ = try makeRuntime("STATE_DIRECTORY = 5\n") }
        #expect(throws: ScriptError.self) { _ = try makeRuntime("STATE_DIRECTORY = ''\n") }
        #expect(throws: ScriptError.self) { _ = try makeRuntime("STATE_DIRECTRY = '/tmp'\n") }
    }
}

@Suite struct StoreAttachTests {
    @Test func attachingSurvivesAReplacedStoreGlobal() throws {
        // A metatable that refuses writes is bypassed (rawset), and a non-table is left alone.
        let (guarded, _, _) = try makeStoredRuntime(probeSource + "store = setmetatable({}, {__newindex = function() error('no') end})\n")
        #expect(try evaluate(guarded, "return tostring(rawget(store, 'path') ~= nil)") == "true")
        let (replaced, _, _) = try makeStoredRuntime(probeSource + "store = 5\n")
        #expect(try evaluate(replaced, "return tostring(store)") == "5")
        let (plain, _, store) = try makeStoredRuntime(probeSource)
        #expect(try evaluate(plain, "return store.path") == store.path)
    }
}
