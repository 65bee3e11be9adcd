import CLua

// How `store` values are written: JSON text, never Lua source, so reading a value back can only
// ever build data (nothing is `load`ed). Lua's types are kept apart:
//  * integers are JSON integers; floats always carry a '.' or an exponent (1.0, 2.5e+20);
//  * a table whose keys are exactly 1..n (n >= 1) is a JSON array; any other table is an object,
//    where an integer key k is written "#k" and a string key starting with '#' gets one more '#';
//  * strings must be UTF-8 text.
// Functions, userdata, threads, NaN/infinity, other key types and cycles are refused with an error
// naming the offending place (value.leases[3].ip).

enum StoreCodec {
    static let maximumDepth = 32

    /// Serialises the Lua value at `index`.
    static func encode(_ L: LuaState, _ index: Int32) throws(LuaArgumentError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        try encodeValue(L, lua_absindex(L, index), path: "value", depth: 0, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func encodeValue(_ L: LuaState, _ index: Int32, path: String, depth: Int, into out: inout [UInt8]) throws(LuaArgumentError) {
        switch lua_type(L, index) {
        case LUA_TBOOLEAN:
            out += Array((lua_toboolean(L, index) != 0 ? "true" : "false").utf8)
        case LUA_TNUMBER:
            if let integer = integerValue(L, index), clua_isinteger(L, index) != 0 {
                out += Array(String(integer).utf8)
            } else {
                let number = lua_tonumberx(L, index, nil)
                guard number.isFinite else {
                    throw LuaArgumentError("\(path) is \(number); NaN and infinities cannot be stored")
                }
                var text = "\(number)"
                if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { text += ".0" }
                out += Array(text.utf8)
            }
        case LUA_TSTRING:
            guard let bytes = stringBytes(L, index), let text = String(validating: bytes, as: UTF8.self) else {
                throw LuaArgumentError("\(path) is a string that is not UTF-8 text; encode binary data first (for example as hex)")
            }
            appendQuoted(text, into: &out)
        case LUA_TTABLE:
            try encodeTable(L, index, path: path, depth: depth, into: &out)
        case LUA_TNIL:
            throw LuaArgumentError("\(path) is nil")
        default:
            throw LuaArgumentError("\(path) is a \(typeName(L, index)); only strings, numbers, booleans and tables of them can be stored")
        }
    }

    private static func encodeTable(_ L: LuaState, _ index: Int32, path: String, depth: Int, into out: inout [UInt8]) throws(LuaArgumentError) {
        guard depth < maximumDepth else {
            throw LuaArgumentError("\(path) nests tables more than \(maximumDepth) deep (a table that contains itself?)")
        }
        guard lua_checkstack(L, 6) != 0 else { throw LuaArgumentError("\(path): Lua stack exhausted") }
        // Count keys and see whether they are exactly 1..n.
        var keys = 0
        var isSequence = true
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            clua_pop(L, 1)
            keys += 1
            if lua_type(L, -1) != LUA_TNUMBER || clua_isinteger(L, -1) == 0 { isSequence = false }
        }
        // n distinct integer keys with t[1..n] all present are exactly 1..n.
        if isSequence, keys > 0 {
            for position in 1...keys where isSequence {
                if lua_rawgeti(L, index, lua_Integer(position)) == LUA_TNIL { isSequence = false }
                clua_pop(L, 1)
            }
        }
        let length = keys
        if keys > 0, isSequence {
            out.append(UInt8(ascii: "["))
            for position in 1...length {
                if position > 1 { out.append(UInt8(ascii: ",")) }
                lua_rawgeti(L, index, lua_Integer(position))
                defer { clua_pop(L, 1) }
                try encodeValue(L, lua_gettop(L), path: "\(path)[\(position)]", depth: depth + 1, into: &out)
            }
            out.append(UInt8(ascii: "]"))
            return
        }
        // Objects: keys sorted so equal tables serialise equally.
        var entries: [(String, String)] = [] // (encoded key, display)
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            clua_pop(L, 1)
            switch lua_type(L, -1) {
            case LUA_TSTRING:
                guard let bytes = stringBytes(L, -1), let key = String(validating: bytes, as: UTF8.self) else {
                    clua_pop(L, 1)
                    throw LuaArgumentError("\(path) has a key that is not UTF-8 text")
                }
                entries.append((key.hasPrefix("#") ? "#" + key : key, key))
            case LUA_TNUMBER where clua_isinteger(L, -1) != 0:
                let key = Int(clua_tointegerx(L, -1, nil))
                entries.append(("#\(key)", "\(key)"))
            default:
                let what = describe(L, -1)
                clua_pop(L, 1)
                throw LuaArgumentError("\(path) has a key that is a \(what); table keys must be strings or integers")
            }
        }
        entries.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        out.append(UInt8(ascii: "{"))
        for (position, (encoded, display)) in entries.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(encoded, into: &out)
            out.append(UInt8(ascii: ":"))
            if encoded.hasPrefix("#"), !encoded.hasPrefix("##"), let integer = Int(encoded.dropFirst()) {
                lua_pushinteger(L, lua_Integer(integer))
            } else {
                pushString(L, display)
            }
            lua_rawget(L, index)
            defer { clua_pop(L, 1) }
            try encodeValue(L, lua_gettop(L), path: "\(path).\(display)", depth: depth + 1, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendQuoted(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, UInt8(ascii: "n")]
            case 0x0D: out += [92, UInt8(ascii: "r")]
            case 0x09: out += [92, UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - Decoding

    /// Pushes the value `text` describes; throws (pushing nothing) when the text is not one.
    static func decode(_ L: LuaState, _ text: String) throws(LuaArgumentError) {
        var parser = Parser(bytes: Array(text.utf8))
        let top = lua_gettop(L)
        do throws(LuaArgumentError) {
            try parser.value(L, depth: 0)
            parser.skipSpace()
            guard parser.position == parser.bytes.count else { throw parser.failure("trailing characters") }
        } catch {
            lua_settop(L, top)
            throw error
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        func failure(_ what: String) -> LuaArgumentError {
            LuaArgumentError("stored value is damaged at byte \(position): \(what)")
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func value(_ L: LuaState, depth: Int) throws(LuaArgumentError) {
            guard depth <= StoreCodec.maximumDepth + 1, lua_checkstack(L, 4) != 0 else { throw failure("nested too deep") }
            skipSpace()
            guard position < bytes.count else { throw failure("unexpected end") }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                pushString(L, try string())
            case UInt8(ascii: "["):
                lua_createtable(L, 0, 0)
                var index: lua_Integer = 1
                try items(closedBy: "]", "array") { (parser) throws(LuaArgumentError) in
                    try parser.value(L, depth: depth + 1)
                    lua_rawseti(L, -2, index)
                    index += 1
                }
            case UInt8(ascii: "{"):
                lua_createtable(L, 0, 0)
                try items(closedBy: "}", "object") { (parser) throws(LuaArgumentError) in
                    try parser.key(L)
                    try parser.value(L, depth: depth + 1)
                    lua_rawset(L, -3)
                }
            case UInt8(ascii: "t"):
                try literal("true"); lua_pushboolean(L, 1)
            case UInt8(ascii: "f"):
                try literal("false"); lua_pushboolean(L, 0)
            default:
                try number(L)
            }
        }

        /// An array's or an object's items, from its opening bracket to `close`: `item` reads each
        /// one (an object's key and value), and the commas between them are checked here.
        mutating func items(
            closedBy close: Unicode.Scalar, _ container: String, _ item: (inout Parser) throws(LuaArgumentError) -> Void
        ) throws(LuaArgumentError) {
            position += 1
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: close) { position += 1; return }
            while true {
                try item(&self)
                skipSpace()
                guard position < bytes.count else { throw failure("unterminated \(container)") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: close) { position += 1; return }
                throw failure("expected ',' or '\(close)'")
            }
        }

        /// Pushes an object's key as the Lua key it stands for ("#3" the integer 3, "##a" the string
        /// "#a"), and reads the colon after it.
        mutating func key(_ L: LuaState) throws(LuaArgumentError) {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try string()
            if key.hasPrefix("##") {
                pushString(L, String(key.dropFirst()))
            } else if key.hasPrefix("#") {
                guard let integer = Int(key.dropFirst()) else { throw failure("bad integer key \(key)") }
                lua_pushinteger(L, lua_Integer(integer))
            } else {
                pushString(L, key)
            }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            position += 1
        }

        mutating func literal(_ word: String) throws(LuaArgumentError) {
            let expected = Array(word.utf8)
            guard position + expected.count <= bytes.count, Array(bytes[position..<position + expected.count]) == expected else {
                throw failure("unexpected character")
            }
            position += expected.count
        }

        mutating func number(_ L: LuaState) throws(LuaArgumentError) {
            let start = position
            var isFloat = false
            while position < bytes.count {
                let byte = bytes[position]
                if (byte >= 48 && byte <= 57) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                    position += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    isFloat = true
                    position += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if isFloat, let number = Double(text) {
                lua_pushnumber(L, number)
            } else if !isFloat, let integer = Int(text) {
                lua_pushinteger(L, lua_Integer(integer))
            } else {
                position = start
                throw failure("not a value")
            }
        }

        mutating func string() throws(LuaArgumentError) -> String {
            position += 1 // opening quote
            var out: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard byte == 92 else { out.append(byte); continue }
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count,
                          let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw failure("bad \\u escape") }
                    position += 4
                    out += Array(String(Character(scalar)).utf8)
                default: out.append(escape)
                }
            }
            throw failure("unterminated string")
        }
    }
}
