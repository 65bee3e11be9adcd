import CLua

/// Warns about global functions whose names are close to a hook's or to a `callbacks` function's:
/// hooks are found by exact name, so `loadDhcpPacket` is never called and the site only learns it
/// when replies come out wrong (docs/SCRIPTING.md, "Loading").
enum HookNameCheck {
    /// One warning per suspicious name, sorted. `functions` are conf.lua's global function names,
    /// `callbacks` the names in the `callbacks` table.
    static func warnings(functions: Set<String>, callbacks: [String]) -> [String] {
        var found: [String] = []
        for name in functions.sorted() where !HookPresence.names.contains(name) {
            if let hook = closest(to: name, among: HookPresence.names), !functions.contains(hook) {
                found.append("conf.lua defines a global function \(name): did you mean \(hook)? Hooks are found by their exact name, so \(name) is never called")
            } else if let callback = closest(to: name, among: callbacks) {
                found.append("conf.lua defines a global function \(name): did you mean to call callbacks.\(callback)(...) (from init())? A global function of that name is never called")
            }
        }
        return found
    }

    /// The candidate `name` is close to: the same ignoring case, or a few edits away (fewer for short
    /// names, so `exit` is not taken for `init`).
    static func closest(to name: String, among candidates: [String]) -> String? {
        let folded = name.lowercased()
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let limit = candidate.count < 6 ? 0 : candidate.count < 12 ? 1 : 2
            let distance = editDistance(folded, candidate.lowercased(), limit: limit)
            guard distance <= limit, best.map({ distance < $0.distance }) ?? true else { continue }
            best = (candidate, distance)
        }
        return best?.name
    }
}

extension ScriptRuntime {
    /// Logs `HookNameCheck`'s warnings for the globals conf.lua left.
    func warnAboutHookTypos() {
        var functions = Set<String>()
        lua_rawgeti(L, clua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -1) == LUA_TFUNCTION, let name = stringValue(L, -2) { functions.insert(name) }
            clua_pop(L, 1)
        }
        var callbacks: [String] = []
        lua_getfield(L, -1, "callbacks")
        if lua_type(L, -1) == LUA_TTABLE {
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                if lua_type(L, -1) == LUA_TFUNCTION, let name = stringValue(L, -2) { callbacks.append(name) }
                clua_pop(L, 1)
            }
        }
        clua_pop(L, 2)
        for warning in HookNameCheck.warnings(functions: functions, callbacks: callbacks) {
            log.log(.warning, logger: "conf", warning)
        }
    }
}
