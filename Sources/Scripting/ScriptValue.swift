import CLua
import Databases

/// A Lua value copied out of the state (settings, extension settings, web results). Tables are
/// split into their array part (1..n) and their other keys, rendered as strings.
public enum ScriptValue: Sendable, Equatable {
    case `nil`
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case table(array: [ScriptValue], fields: [String: ScriptValue])
    /// A function (or other non-data value) that cannot leave the state; carries its type name.
    case opaque(String)

    /// Lua's name for the type, for "expected X, found Y" messages.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .table: "table"
        case .opaque(let name): name
        }
    }

    /// The type and, when short, the value.
    public var shortDescription: String {
        switch self {
        case .nil: "nil"
        case .bool(let value): "\(value)"
        case .integer(let value): "integer \(value)"
        case .number(let value): "number \(value)"
        case .string(let value): "string \"\(value.count > 40 ? String(value.prefix(40)) + "..." : value)\""
        case .table(let array, let fields): "table (\(array.count) items, \(fields.count) keys)"
        case .opaque(let name): name
        }
    }

    /// Reads the value at `index`, recursing into tables up to `depth` levels.
    static func read(_ L: LuaState, _ index: Int32, depth: Int = 8) -> ScriptValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if let integer = integerValue(L, index) { return .integer(integer) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(stringValue(L, index) ?? "")
        case LUA_TTABLE:
            guard depth > 0, lua_checkstack(L, 4) != 0 else { return .opaque("table (too deep)") }
            let absolute = lua_absindex(L, index)
            let array = arrayItems(L, absolute) { _ in read(L, -1, depth: depth - 1) }
            var fields: [String: ScriptValue] = [:]
            lua_pushnil(L)
            while lua_next(L, absolute) != 0 {
                defer { clua_pop(L, 1) }
                if let key = integerValue(L, -2), key >= 1, key <= array.count { continue }
                let key: String
                switch lua_type(L, -2) {
                case LUA_TSTRING: key = stringValue(L, -2) ?? ""
                case LUA_TNUMBER: key = integerValue(L, -2).map(String.init) ?? "\(lua_tonumberx(L, -2, nil))"
                case LUA_TBOOLEAN: key = lua_toboolean(L, -2) != 0 ? "true" : "false"
                default: continue
                }
                fields[key] = read(L, -1, depth: depth - 1)
            }
            return .table(array: array, fields: fields)
        default:
            return .opaque(Scripting.typeName(L, index))
        }
    }

    /// Pushes the value (opaque values become nil).
    func push(_ L: LuaState) {
        switch self {
        case .nil, .opaque: lua_pushnil(L)
        case .bool(let value): lua_pushboolean(L, value ? 1 : 0)
        case .integer(let value): lua_pushinteger(L, lua_Integer(value))
        case .number(let value): lua_pushnumber(L, value)
        case .string(let value): pushString(L, value)
        case .table(let array, let fields):
            lua_createtable(L, Int32(array.count), Int32(fields.count))
            for (index, item) in array.enumerated() {
                item.push(L)
                lua_rawseti(L, -2, lua_Integer(index + 1))
            }
            for (key, item) in fields {
                pushString(L, key)
                item.push(L)
                lua_rawset(L, -3)
            }
        }
    }

    /// The value as definition metadata: arrays become lists, keyed tables become tables
    /// (a table with both parts keeps the array under the keys "1", "2", ...).
    var extraValue: ExtraValue? {
        switch self {
        case .nil, .opaque: nil
        case .bool(let value): .bool(value)
        case .integer(let value): .integer(value)
        case .number(let value): .double(value)
        case .string(let value): .string(value)
        case .table(let array, let fields):
            if fields.isEmpty, !array.isEmpty {
                .list(array.compactMap(\.extraValue))
            } else {
                .table(ScriptValue.merge(array, fields).compactMapValues(\.extraValue))
            }
        }
    }

    static func merge(_ array: [ScriptValue], _ fields: [String: ScriptValue]) -> [String: ScriptValue] {
        var merged = fields
        for (index, item) in array.enumerated() { merged[String(index + 1)] = item }
        return merged
    }

    init(_ extra: ExtraValue) {
        switch extra {
        case .string(let value): self = .string(value)
        case .integer(let value): self = .integer(value)
        case .double(let value): self = .number(value)
        case .bool(let value): self = .bool(value)
        case .list(let values): self = .table(array: values.map(ScriptValue.init), fields: [:])
        case .table(let values): self = .table(array: [], fields: values.mapValues(ScriptValue.init))
        }
    }
}
