import CLua

/// Reads an integer field the way the original's `int()` did (a Definition's `lease_time`
/// and `serial`), so a value a migrated database or script hands over as text keeps working:
/// an integer; a float, truncated toward zero; or a string of decimal digits with optional spaces
/// around it, a sign, and single underscores between digits (`"600"`, `" 600 "`, `"1_000"`).
/// Anything else (`"600.0"`, `"0x10"`, `""`, a boolean) is an error naming `what`.
func requirePythonInt(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> Int {
    switch lua_type(L, index) {
    case LUA_TNUMBER:
        if let integer = integerValue(L, index) { return integer }
        let number = lua_tonumberx(L, index, nil)
        guard number.isFinite, let truncated = Int(exactly: number.rounded(.towardZero)) else {
            throw LuaArgumentError("\(what) must be an integer, got \(describe(L, index))")
        }
        return truncated
    case LUA_TSTRING:
        guard let text = stringValue(L, index), let value = pythonIntLiteral(text) else {
            throw LuaArgumentError("\(what) must be an integer, got \(describe(L, index)) (a string must hold a whole decimal number)")
        }
        return value
    default:
        throw LuaArgumentError("\(what) must be an integer, got \(describe(L, index))")
    }
}

/// The value of a decimal literal as Python's `int(str)` reads it, or nil.
func pythonIntLiteral(_ text: String) -> Int? {
    var body = Substring(text.trimmingPythonSpace())
    var negative = false
    if let sign = body.first, sign == "+" || sign == "-" {
        negative = sign == "-"
        body = body.dropFirst()
    }
    guard let first = body.first, first.isASCII, first.isNumber, body.last != "_", !body.contains("__") else { return nil }
    let digits = body.filter { $0 != "_" }
    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let magnitude = Int(digits) else { return nil }
    return negative ? -magnitude : magnitude
}

private extension String {
    func trimmingPythonSpace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var slice = Substring(self)
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return slice
    }
}
