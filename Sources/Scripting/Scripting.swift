// The Lua 5.4 scripting layer; see docs/ARCHITECTURE.md.
