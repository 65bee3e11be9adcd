import CLua
import DHCPWire
import Databases

// Definition{ip=..., lease_time=..., subnet=..., serial=..., ...} (or positional, in the original's
// order) builds a read-only Definition userdata holding the value laid out flat (`DefinitionRecord`:
// no finaliser). Fields read as in the guide: addresses are strings, address lists are arrays of
// strings, extra is a fresh table.

extension ScriptRuntime {
    func installDefinition() {
        luaL_newmetatable(L, "staticdhcpd.definition")
        setFunction(L, "__index", definitionIndex)
        setFunction(L, "__newindex", definitionNewIndex)
        setFunction(L, "__tostring", definitionToString)
        setFunction(L, "__eq", definitionEquals)
        _ = clua_getglobal(L, "next") // the base library's, before conf.lua can replace it
        clua_pushswiftclosure(L, unsafeBitCast(definitionPairs, to: clua_SwiftFunction.self), 1)
        lua_setfield(L, -2, "__pairs")
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        calls.pointee.definitionMetatableRef = clua_ref(L)
        setGlobalFunction(L, "Definition", definitionConstructor)
    }

    /// Pushes the definition, or nil. Unwrapped here, on a borrowed parameter: unwrapping the
    /// optional inside the hook's closures copied the whole Definition (a retain and a release per
    /// string and array) on every call.
    func pushDefinition(orNil definition: Definition?) {
        guard let definition else { lua_pushnil(L); return }
        pushDefinition(definition)
    }

    func pushDefinition(_ definition: Definition) {
        let extra = DefinitionRecord.encodeExtra(definition)
        let raw = clua_newuserdata(L, DefinitionRecord.size(of: definition, extra: extra))!
        DefinitionRecord.write(definition, extra: extra, to: raw)
        pushRef(calls.pointee.definitionMetatableRef)
        lua_setmetatable(L, -2)
    }

    /// The definition userdata at `index`, as a view of its bytes.
    func definitionRecord(at index: Int32) -> DefinitionRecord.View? {
        userdata(at: index, metatable: calls.pointee.definitionMetatableRef).map { DefinitionRecord.View(raw: $0) }
    }

    func definition(at index: Int32) -> Definition? {
        definitionRecord(at: index)?.definition
    }

    /// A hook's result as definitions: a Definition, a list of them, a table of Definition fields,
    /// or "no definition": `nil`, `false` or an empty table (the original's falsy results,
    /// docs/SCRIPTING.md "Hooks").
    func definitions(at index: Int32, hook: String) throws(ScriptError) -> [Definition] {
        if isEmptyResult(at: index) { return [] }
        if let single = definition(at: index) { return [single] }
        guard lua_type(L, index) == LUA_TTABLE else {
            throw ScriptError(.badResult, "\(hook) returned \(describe(L, index)); expected a Definition, a list of them, a table of Definition fields, or nil/false for none")
        }
        let absolute = lua_absindex(L, index)
        if lua_rawlen(L, absolute) == 0 {
            // A table of fields: build it as Definition{...} would.
            do { return [try makeDefinition(L, absolute)] } catch {
                throw ScriptError(.badResult, "\(hook) returned a table that is not a Definition: \(error.message)")
            }
        }
        var result: [Definition] = []
        for position in 1...Int(lua_rawlen(L, absolute)) {
            lua_rawgeti(L, absolute, lua_Integer(position))
            defer { clua_pop(L, 1) }
            guard let item = definition(at: -1) else {
                throw ScriptError(.badResult, "\(hook) returned a list whose item \(position) is \(describe(L, -1)), not a Definition")
            }
            result.append(item)
        }
        return result
    }

    /// `filterRetrievedDefinitions`' result: whatever `definitions(at:hook:)` accepts, as long as it
    /// names at most one definition.
    func chosenDefinition(at index: Int32, hook: String) throws(ScriptError) -> Definition? {
        let chosen = try definitions(at: index, hook: hook)
        guard chosen.count <= 1 else {
            throw ScriptError(.badResult, "\(hook) returned a list of \(chosen.count) definitions; return the one to use")
        }
        return chosen.first
    }

    /// nil, nothing, false, or a table with no keys at all.
    private func isEmptyResult(at index: Int32) -> Bool {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return true
        case LUA_TBOOLEAN: return lua_toboolean(L, index) == 0
        case LUA_TTABLE:
            let table = lua_absindex(L, index)
            lua_pushnil(L)
            guard lua_next(L, table) != 0 else { return true }
            clua_pop(L, 2)
            return false
        default: return false
        }
    }
}

private let fieldNames: Set<String> = [
    "ip", "lease_time", "subnet", "serial", "hostname", "gateways", "subnet_mask", "broadcast_address",
    "domain_name", "domain_name_servers", "ntp_servers", "extra",
]
private let positionalOrder = [
    "ip", "lease_time", "subnet", "serial", "hostname", "gateways", "subnet_mask", "broadcast_address",
    "domain_name", "domain_name_servers", "ntp_servers", "extra",
]

/// Builds a Definition from the table at `index` (keys are the field names), applying the
/// original's normalisation (docs/SCRIPTING.md, "Definition").
func makeDefinition(_ L: LuaState, _ index: Int32) throws(LuaArgumentError) -> Definition {
    let table = lua_absindex(L, index)
    lua_pushnil(L)
    while lua_next(L, table) != 0 {
        clua_pop(L, 1)
        guard let key = stringValue(L, -1), fieldNames.contains(key) else {
            let name = describe(L, -1)
            clua_pop(L, 1)
            throw LuaArgumentError("unknown field \(name); the fields are \(positionalOrder.joined(separator: ", "))")
        }
    }
    func field<T>(_ name: String, _ read: (Int32) throws(LuaArgumentError) -> T) throws(LuaArgumentError) -> T {
        lua_getfield(L, table, name)
        defer { clua_pop(L, 1) }
        return try read(-1)
    }
    func isNil(_ at: Int32) -> Bool { lua_type(L, at) == LUA_TNIL }
    func optionalText(_ name: String) throws(LuaArgumentError) -> String? {
        try field(name) { (at) throws(LuaArgumentError) in
            if isNil(at) { return nil }
            return try requireString(L, at, name)
        }
    }
    func optionalAddress(_ name: String) throws(LuaArgumentError) -> IPv4? {
        try field(name) { (at) throws(LuaArgumentError) in isNil(at) ? nil : try requireIPv4(L, at, name) }
    }
    let ip = try field("ip") { (at) throws(LuaArgumentError) -> IPv4 in
        if isNil(at) { throw LuaArgumentError("ip is required") }
        return try requireIPv4(L, at, "ip")
    }
    let leaseTime = try field("lease_time") { (at) throws(LuaArgumentError) -> UInt32 in
        if isNil(at) { throw LuaArgumentError("lease_time is required (seconds)") }
        let value = try requirePythonInt(L, at, "lease_time")
        guard (0...Int(UInt32.max)).contains(value) else { throw LuaArgumentError("lease_time must be 0...4294967295 seconds, got \(value)") }
        return UInt32(value)
    }
    let subnet = try field("subnet") { (at) throws(LuaArgumentError) -> String in
        switch lua_type(L, at) {
        case LUA_TSTRING: return stringValue(L, at) ?? ""
        case LUA_TNUMBER: return integerValue(L, at).map(String.init) ?? "\(lua_tonumberx(L, at, nil))"
        case LUA_TNIL: throw LuaArgumentError("subnet is required (a label such as \"192.0.2.0/24\")")
        default: throw LuaArgumentError("subnet must be a string, got \(describe(L, at))")
        }
    }
    let serial = try field("serial") { (at) throws(LuaArgumentError) -> Int in
        if isNil(at) { throw LuaArgumentError("serial is required (an integer)") }
        return try requirePythonInt(L, at, "serial")
    }
    let extra = try field("extra") { (at) throws(LuaArgumentError) -> [String: ExtraValue]? in
        if isNil(at) { return nil }
        guard lua_type(L, at) == LUA_TTABLE else { throw LuaArgumentError("extra must be a table, got \(describe(L, at))") }
        guard case .table(let array, let fields) = ScriptValue.read(L, at) else { return nil }
        return ScriptValue.merge(array, fields).compactMapValues(\.extraValue)
    }
    return Definition(
        ip: ip, leaseTime: leaseTime, subnet: subnet, serial: serial,
        hostname: try optionalText("hostname"),
        gateways: try field("gateways") { (at) throws(LuaArgumentError) in try ipv4ListValue(L, at, "gateways") },
        subnetMask: try optionalAddress("subnet_mask"),
        broadcastAddress: try optionalAddress("broadcast_address"),
        domainName: try optionalText("domain_name"),
        domainNameServers: try field("domain_name_servers") { (at) throws(LuaArgumentError) in try ipv4ListValue(L, at, "domain_name_servers") },
        ntpServers: try field("ntp_servers") { (at) throws(LuaArgumentError) in try ipv4ListValue(L, at, "ntp_servers") },
        extra: extra
    )
}

/// Definition{...} or Definition(ip, lease_time, subnet, serial, ...).
private let definitionConstructor: LuaFunction = { L in
    luaEntry(L, "Definition") { L in
        if lua_gettop(L) == 1, lua_type(L, 1) == LUA_TTABLE, byteList(L, 1) == nil {
            ScriptRuntime.from(L).pushDefinition(try makeDefinition(L, 1))
            return 1
        }
        // Positional form: gather the arguments into a table of fields.
        let count = min(Int(lua_gettop(L)), positionalOrder.count)
        lua_createtable(L, 0, Int32(count))
        for position in 0..<count {
            lua_pushvalue(L, Int32(position + 1))
            lua_setfield(L, -2, positionalOrder[position])
        }
        let built = try makeDefinition(L, -1)
        clua_pop(L, 1)
        ScriptRuntime.from(L).pushDefinition(built)
        return 1
    }
}

private let definitionIndex: LuaFunction = { L in
    luaEntry(L, "Definition") { L in
        guard let record = ScriptRuntime.from(L).definitionRecord(at: 1) else { return 0 }
        guard let key = stringValue(L, 2) else { lua_pushnil(L); return 1 }
        if key == "copy" {
            setCopyFunction(L)
            return 1
        }
        if !pushDefinitionField(L, record, key) { lua_pushnil(L) }
        return 1
    }
}

private func setCopyFunction(_ L: LuaState) {
    clua_pushswiftclosure(L, unsafeBitCast(definitionCopy, to: clua_SwiftFunction.self), 0)
}

/// Pushes field `key` of `record` as scripts read it (nil for an absent optional field); false,
/// pushing nothing, when `key` is not a field.
private func pushDefinitionField(_ L: LuaState, _ record: DefinitionRecord.View, _ key: String) -> Bool {
    let header = record.header
    func pushText(_ field: DefinitionRecord.View.Text) {
        guard let bytes = record.text(field) else { lua_pushnil(L); return }
        clua_pushstring_len(L, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }
    func pushAddresses(_ list: DefinitionRecord.View.AddressList) {
        let values = record.addresses(list)
        lua_createtable(L, Int32(values.count), 0)
        for (index, value) in values.enumerated() {
            pushDottedQuad(L, value)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
    }
    switch key {
    case "ip": pushDottedQuad(L, header.ip)
    case "lease_time": lua_pushinteger(L, lua_Integer(header.leaseTime))
    case "subnet": pushText(.subnet)
    case "serial": lua_pushinteger(L, lua_Integer(header.serial))
    case "hostname": pushText(.hostname)
    case "gateways": pushAddresses(.gateways)
    case "subnet_mask":
        pushIPv4(L, header.flags & DefinitionRecord.hasSubnetMask != 0 ? IPv4(header.subnetMask) : nil)
    case "broadcast_address":
        pushIPv4(L, header.flags & DefinitionRecord.hasBroadcastAddress != 0 ? IPv4(header.broadcastAddress) : nil)
    case "domain_name": pushText(.domainName)
    case "domain_name_servers": pushAddresses(.domainNameServers)
    case "ntp_servers": pushAddresses(.ntpServers)
    case "extra":
        if let extra = record.extra { pushExtra(L, .table(extra)) } else { lua_pushnil(L) }
    default: return false
    }
    return true
}

/// A fresh table of the definition's fields, absent optional ones left out: what `pairs` walks
/// and what `copy` starts from.
private func pushDefinitionFields(_ L: LuaState, _ record: DefinitionRecord.View) {
    lua_createtable(L, 0, Int32(positionalOrder.count))
    for name in positionalOrder where pushDefinitionField(L, record, name) {
        lua_setfield(L, -2, name)
    }
}

/// `definition:copy{ lease_time = 600 }`: a new Definition with the given fields replaced (the
/// rest as they are), checked as `Definition{...}` checks; `false` removes an optional field.
/// `definition:copy()` is a plain copy.
private let definitionCopy: LuaFunction = { L in
    luaEntry(L, "Definition:copy") { L in
        let runtime = ScriptRuntime.from(L)
        guard let record = runtime.definitionRecord(at: 1) else {
            throw LuaArgumentError("call it as definition:copy{field = value, ...}, got \(describe(L, 1)) before the ':'")
        }
        let overrides = lua_type(L, 2)
        guard overrides == LUA_TNIL || overrides == LUA_TNONE || overrides == LUA_TTABLE else {
            throw LuaArgumentError("expected a table of fields to replace, got \(describe(L, 2))")
        }
        pushDefinitionFields(L, record)
        let fields = lua_gettop(L)
        if overrides == LUA_TTABLE {
            lua_pushnil(L)
            while lua_next(L, 2) != 0 {
                guard let key = stringValue(L, -2), fieldNames.contains(key) else {
                    let name = describe(L, -2)
                    throw LuaArgumentError("unknown field \(name); the fields are \(positionalOrder.joined(separator: ", "))")
                }
                if lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0 {
                    clua_pop(L, 1)
                    lua_pushnil(L)
                }
                lua_setfield(L, fields, key) // pops the value; lua_next continues from the key
            }
        }
        let built = try makeDefinition(L, fields)
        runtime.pushDefinition(built)
        return 1
    }
}

/// `pairs(definition)`: the base `next` (upvalue 2) over a fresh table of its fields.
private let definitionPairs: LuaFunction = { L in
    luaEntry(L, "Definition") { L in
        guard let record = ScriptRuntime.from(L).definitionRecord(at: 1) else {
            throw LuaArgumentError("pairs expected a Definition, got \(describe(L, 1))")
        }
        lua_pushvalue(L, clua_upvalueindex(2))
        pushDefinitionFields(L, record)
        lua_pushnil(L)
        return 3
    }
}

/// Pushes an `extra` value as a fresh table. Keys that are whole numbers in canonical form ("5",
/// "-2") come back as Lua integers: a table built in Lua with integer keys (or an array part
/// beside named keys) reaches Swift with its keys as text, and `extra[5]` must read what
/// `extra = {[5] = ...}` stored, as the original's dicts kept their keys' types.
func pushExtra(_ L: LuaState, _ value: ExtraValue) {
    switch value {
    case .string(let text): pushString(L, text)
    case .integer(let number): lua_pushinteger(L, lua_Integer(number))
    case .double(let number): lua_pushnumber(L, number)
    case .bool(let flag): lua_pushboolean(L, flag ? 1 : 0)
    case .list(let items):
        lua_createtable(L, Int32(items.count), 0)
        for (index, item) in items.enumerated() {
            pushExtra(L, item)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
    case .table(let fields):
        lua_createtable(L, 0, Int32(fields.count))
        for (key, item) in fields {
            if let number = canonicalInteger(key) { lua_pushinteger(L, lua_Integer(number)) } else { pushString(L, key) }
            pushExtra(L, item)
            lua_rawset(L, -3)
        }
    }
}

/// The integer `key` spells with no sign other than '-', no leading zero and no spaces; else nil.
func canonicalInteger(_ key: String) -> Int? {
    guard let number = Int(key), String(number) == key else { return nil }
    return number
}

private let definitionNewIndex: LuaFunction = { L in
    luaEntry(L, "Definition") { _ in
        throw LuaArgumentError("definitions are read-only; build a new one with Definition{...}")
    }
}

private let definitionToString: LuaFunction = { L in
    luaEntry(L, "Definition") { L in
        guard let d = ScriptRuntime.from(L).definition(at: 1) else { return 0 }
        pushString(L, "Definition(ip=\(d.ip), lease_time=\(d.leaseTime), subnet=\(d.subnet), serial=\(d.serial), hostname=\(d.hostname ?? "nil"))")
        return 1
    }
}

private let definitionEquals: LuaFunction = { L in
    luaEntry(L, "Definition") { L in
        let runtime = ScriptRuntime.from(L)
        let a = runtime.definition(at: 1), b = runtime.definition(at: 2)
        lua_pushboolean(L, a != nil && a == b ? 1 : 0)
        return 1
    }
}
