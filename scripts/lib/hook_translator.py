"""Translates the Python of a conf.py's hooks into Lua, for scripts/convert-conf.

It covers the forms the scripting guide's examples and most sites' hooks use: functions, if/elif/
else, return, local assignments, calls, comparisons, arithmetic, lists and dicts, Definition(...),
packet methods, logger and callbacks, random.random(), str.startswith. A function that uses
anything else raises Untranslatable naming the construct, and convert-conf copies that function
as a TRANSLATE comment instead: half a translation is worse than none.

Where Python and Lua differ in meaning, the translation follows Python (docs/SCRIPTING.md,
"Migrating from conf.py"):
- indexes are 0-based in Python, 1-based in Lua: `x[3]` becomes `x[4]`;
- addresses reach Lua as strings, so `definition.ip[3]` becomes `ipToList(definition.ip)[4]`;
- 0 is false in Python and true in Lua: an arithmetic test `if n % 3:` becomes `if n % 3 ~= 0`,
  and `not n % 3` becomes `n % 3 == 0`;
- `+` between strings is `..`; `**` is `^` (whose result is a float in Lua: 2 ** 8 is 256.0, equal
  to 256); `//` stays `//`; `!=` is `~=`.
"""
import ast

LUA_KEYWORDS = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

# Globals of conf.lua whose functions are called with a dot (tables of functions, not objects).
# Python's os, string and time share only names with Lua's, so calls into them are refused.
MODULES = {"logger", "callbacks", "extensions", "store", "math"}

# Names whose values are IPv4 addresses (strings in Lua), so a subscript means an octet.
ADDRESS_NAMES = {"client_ip", "relay_ip", "ip", "gateway", "subnet_mask", "broadcast_address"}

# Python modules a hook may import inside its body without consequence for the translation.
HARMLESS_IMPORTS = {"random", "logging", "time"}

BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "^"}
COMPARE = {ast.Eq: "==", ast.NotEq: "~=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}

# Lua's operator priorities (the reference manual, section 3.4.8), for parentheses.
PRIORITY = {"or": 1, "and": 2, "cmp": 3, "..": 5, "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7,
            "unary": 8, "^": 9, "atom": 10}


class Untranslatable(Exception):
    """A construct this translator does not handle; the message names it and its line."""


def lua_string(text):
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '\\"':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif code < 0x20 or code == 0x7F:
            out.append("\\%03d" % code)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


class Expression:
    """Lua text with the priority of its outermost operator."""

    def __init__(self, text, priority="atom", numeric=False):
        self.text = text
        self.priority = PRIORITY[priority]
        self.numeric = numeric

    def at(self, priority):
        """The text, parenthesised if its operator binds less tightly than `priority`."""
        return self.text if self.priority >= PRIORITY[priority] else "(" + self.text + ")"


class FunctionTranslator:
    def __init__(self, node):
        self.node = node
        self.locals = set(arg.arg for arg in node.args.args)
        self.depth = 1  # of the statement being translated, for multi-line expressions

    def fail(self, node, what):
        raise Untranslatable("line %d: %s" % (getattr(node, "lineno", self.node.lineno), what))

    def translate(self):
        node = self.node
        if node.decorator_list:
            self.fail(node, "decorators")
        arguments = node.args
        if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.defaults or arguments.posonlyargs:
            self.fail(node, "default, keyword-only or variadic arguments")
        for name in [node.name] + [arg.arg for arg in arguments.args]:
            self.check_name(node, name)
        lines = ["function %s(%s)" % (node.name, ", ".join(arg.arg for arg in arguments.args))]
        lines += self.block(node.body, 1)
        lines.append("end")
        return lines

    def check_name(self, node, name):
        if name in LUA_KEYWORDS:
            self.fail(node, "the name '%s' is a Lua keyword" % name)

    # Statements

    def block(self, statements, depth):
        lines = []
        for index, statement in enumerate(statements):
            if index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                    and isinstance(statement.value.value, str):
                lines += ["    " * depth + "-- " + line.strip() for line in statement.value.value.strip().split("\n")]
                continue
            lines += self.statement(statement, depth)
        return lines

    def statement(self, node, depth):
        pad = "    " * depth
        self.depth = depth
        if isinstance(node, ast.Return):
            return [pad + ("return" if node.value is None else "return " + self.expression(node.value).text)]
        if isinstance(node, ast.Pass):
            return []
        if isinstance(node, ast.Expr):
            if not isinstance(node.value, ast.Call):
                self.fail(node, "an expression statement that is not a call")
            return [pad + self.expression(node.value).text]
        if isinstance(node, ast.If):
            return self.if_statement(node, depth, "if")
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                self.fail(node, "chained assignment")
            return [pad + self.assignment(node.targets[0], node.value)]
        if isinstance(node, ast.AugAssign) and type(node.op) in BINARY:
            target = self.target(node.target)
            value = self.binary(node.op, node.target, node.value, node)
            return [pad + "%s = %s" % (target, value.text)]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if all(name in HARMLESS_IMPORTS for name in names):
                return []
            self.fail(node, "import of %s" % ", ".join(names))
        self.fail(node, "a %s statement" % type(node).__name__)

    def if_statement(self, node, depth, keyword):
        pad = "    " * depth
        self.depth = depth
        lines = [pad + "%s %s then" % (keyword, self.condition(node.test))]
        lines += self.block(node.body, depth + 1)
        if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            lines += self.if_statement(node.orelse[0], depth, "elseif")
            return lines
        if node.orelse:
            lines.append(pad + "else")
            lines += self.block(node.orelse, depth + 1)
        lines.append(pad + "end")
        return lines

    def assignment(self, target, value):
        if isinstance(target, ast.Name):
            self.check_name(target, target.id)
            text = self.expression(value).text
            if target.id in self.locals:
                return "%s = %s" % (target.id, text)
            self.locals.add(target.id)
            return "local %s = %s" % (target.id, text)
        return "%s = %s" % (self.target(target), self.expression(value).text)

    def target(self, node):
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.expression(node).text
        self.fail(node, "assignment to a %s" % type(node).__name__)

    # Expressions

    def condition(self, node):
        """A test as Python means it: a number is true when it is not 0."""
        value = self.expression(node)
        if value.numeric:
            return "%s ~= 0" % value.at("cmp")
        return value.text

    def expression(self, node):
        method = getattr(self, "x_" + type(node).__name__, None)
        if method is None:
            self.fail(node, "a %s expression" % type(node).__name__)
        return method(node)

    def x_Constant(self, node):
        value = node.value
        if value is None:
            return Expression("nil")
        if value is True or value is False:
            return Expression("true" if value else "false")
        if isinstance(value, (int, float)):
            text = repr(value)
            return Expression(text if value >= 0 else "(" + text + ")", numeric=True)
        if isinstance(value, str):
            return Expression(lua_string(value))
        self.fail(node, "a %s constant" % type(value).__name__)

    def x_Name(self, node):
        self.check_name(node, node.id)
        return Expression(node.id)

    def x_Attribute(self, node):
        return Expression("%s.%s" % (self.expression(node.value).at("atom"), node.attr))

    def x_List(self, node):
        return Expression("{" + ", ".join(self.expression(item).text for item in node.elts) + "}")

    x_Tuple = x_List

    def x_Dict(self, node):
        pairs = []
        for key, value in zip(node.keys, node.values):
            if key is None:
                self.fail(node, "** in a dict")
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier() \
                    and key.value.isascii() and key.value not in LUA_KEYWORDS:
                pairs.append("%s = %s" % (key.value, self.expression(value).text))
            else:
                pairs.append("[%s] = %s" % (self.expression(key).text, self.expression(value).text))
        return Expression("{" + ", ".join(pairs) + "}")

    def x_Subscript(self, node):
        index = node.slice
        if isinstance(index, ast.Slice):
            self.fail(node, "a slice")
        base = node.value
        is_address = (isinstance(base, ast.Name) and base.id in ADDRESS_NAMES) or \
                     (isinstance(base, ast.Attribute) and base.attr in ADDRESS_NAMES)
        container = "ipToList(%s)" % self.expression(base).text if is_address else self.expression(base).at("atom")
        if isinstance(index, ast.Constant) and isinstance(index.value, int) and not isinstance(index.value, bool):
            if index.value < 0:
                self.fail(node, "a negative index")
            return Expression("%s[%d]" % (container, index.value + 1))
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return Expression("%s[%s]" % (container, lua_string(index.value)))
        self.fail(node, "a computed index (0-based in Python, 1-based in Lua: translate by hand)")

    def x_UnaryOp(self, node):
        operand = self.expression(node.operand)
        if isinstance(node.op, ast.Not):
            if operand.numeric:
                return Expression("%s == 0" % operand.at("cmp"), "cmp")
            return Expression("not " + operand.at("unary"), "unary")
        if isinstance(node.op, ast.USub):
            return Expression("-" + operand.at("unary"), "unary", numeric=True)
        if isinstance(node.op, ast.UAdd):
            return operand
        self.fail(node, "the operator ~")

    def x_BinOp(self, node):
        if type(node.op) not in BINARY:
            self.fail(node, "the operator %s" % type(node.op).__name__)
        return self.binary(node.op, node.left, node.right, node)

    def binary(self, op, left_node, right_node, node):
        left, right = self.expression(left_node), self.expression(right_node)
        symbol = BINARY[type(op)]
        if symbol == "+" and (self.is_text(left_node) or self.is_text(right_node)):
            # Concatenation is associative, so only operands of lower priority need parentheses.
            return Expression("%s .. %s" % (left.at(".."), right.at("..")), "..")
        if symbol == "%" and self.is_text(left_node):
            self.fail(node, "%-formatting of a string (use string.format)")
        if symbol == "^":
            return Expression("%s ^ %s" % (left.at("unary"), right.at("^")), "^", numeric=True)
        return Expression("%s %s %s" % (left.at(symbol), symbol, self.right_operand(right, symbol)), symbol, numeric=True)

    @staticmethod
    def right_operand(right, symbol):
        # Left-associative: an operand of the same priority on the right needs parentheses.
        return right.text if right.priority > PRIORITY[symbol] else "(" + right.text + ")"

    @staticmethod
    def is_text(node):
        return isinstance(node, ast.Constant) and isinstance(node.value, str) or \
            isinstance(node, ast.JoinedStr) or \
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" or \
            isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and \
            (FunctionTranslator.is_text(node.left) or FunctionTranslator.is_text(node.right))

    def x_BoolOp(self, node):
        word = "and" if isinstance(node.op, ast.And) else "or"
        parts = []
        for value in node.values:
            text = self.condition(value)
            parts.append(text if PRIORITY[word] <= self.priority_of(value) else "(" + text + ")")
        return Expression((" %s " % word).join(parts), word)

    def priority_of(self, node):
        value = self.expression(node)
        return PRIORITY["cmp"] if value.numeric else value.priority

    def x_Compare(self, node):
        if len(node.ops) != 1:
            self.fail(node, "a chained comparison")
        op, right_node = node.ops[0], node.comparators[0]
        left = self.expression(node.left)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                self.fail(node, "'is' with something other than None")
            return Expression("%s %s nil" % (left.at("cmp"), "==" if isinstance(op, ast.Is) else "~="), "cmp")
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right_node, (ast.List, ast.Tuple, ast.Set)):
                self.fail(node, "'in' over something other than a literal list")
            tests = ["%s == %s" % (left.at("cmp"), self.expression(item).at("cmp")) for item in right_node.elts]
            either = " or ".join(tests) if tests else "false"
            if isinstance(op, ast.NotIn):
                return Expression("not (%s)" % either, "unary")
            return Expression(either if len(tests) < 2 else "(" + either + ")")
        if type(op) not in COMPARE:
            self.fail(node, "the comparison %s" % type(op).__name__)
        return Expression("%s %s %s" % (left.at("cmp"), COMPARE[type(op)], self.expression(right_node).at("..")), "cmp")

    def x_Call(self, node):
        function = node.func
        name = self.dotted(function)
        if name in ("Definition", "generic.Definition", "databases.generic.Definition"):
            return self.definition(node)
        if node.keywords:
            self.fail(node, "keyword arguments to %s" % (name or "a call"))
        arguments = [self.expression(argument).text for argument in node.args]
        if any(isinstance(argument, ast.Starred) for argument in node.args):
            self.fail(node, "*arguments")
        if name == "random.random" and not arguments:
            return Expression("math.random()", numeric=True)
        if name == "random.randint" and len(arguments) == 2:
            return Expression("math.random(%s)" % ", ".join(arguments), numeric=True)
        if name == "len" and len(arguments) == 1:
            return Expression("#" + self.expression(node.args[0]).at("unary"), "unary", numeric=True)
        if name == "str" and len(arguments) == 1:
            return Expression("tostring(%s)" % arguments[0])
        if name in ("int", "float") and len(arguments) == 1:
            return Expression("tonumber(%s)" % arguments[0], numeric=True)
        if isinstance(function, ast.Attribute):
            receiver = function.value
            if isinstance(receiver, ast.Name) and receiver.id in MODULES:
                return Expression("%s.%s(%s)" % (receiver.id, function.attr, ", ".join(arguments)))
            target = self.expression(receiver).at("atom")
            if function.attr == "startswith" and len(arguments) == 1:
                return Expression("%s:sub(1, #%s) == %s" % (target, arguments[0], arguments[0]), "cmp")
            if function.attr == "endswith" and len(arguments) == 1:
                return Expression("(%s == \"\" or %s:sub(-#%s) == %s)" % (arguments[0], target, arguments[0], arguments[0]))
            if function.attr in ("lower", "upper") and not arguments:
                return Expression("%s:%s()" % (target, function.attr))
            root = receiver
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and root.id not in self.locals:
                self.fail(node, "a call into the Python module '%s'" % self.dotted(function))
            return Expression("%s:%s(%s)" % (target, function.attr, ", ".join(arguments)))
        if isinstance(function, ast.Name):
            return Expression("%s(%s)" % (function.id, ", ".join(arguments)))
        self.fail(node, "a call of a computed function")

    def definition(self, node):
        if node.args:
            self.fail(node, "Definition(...) with positional arguments (use ip=..., lease_time=...)")
        fields = []
        for keyword in node.keywords:
            if keyword.arg is None:
                self.fail(node, "Definition(**...)")
            fields.append("%s = %s" % (keyword.arg, self.expression(keyword.value).text))
        one_line = "Definition{" + ", ".join(fields) + "}"
        if len(one_line) + 4 * self.depth <= 100:
            return Expression(one_line)
        inner, outer = "    " * (self.depth + 1), "    " * self.depth
        return Expression("Definition{\n" + "".join(inner + field + ",\n" for field in fields) + outer + "}")

    @staticmethod
    def dotted(node):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(node.id)
        return ".".join(reversed(parts))


def translate_function(node):
    """Lua lines for a Python function definition, or Untranslatable."""
    return FunctionTranslator(node).translate()


class ConstantFolder:
    """Evaluates settings computed from literals (`60 * 10`, `2 ** 8`, "a" + "b"), and from
    settings already converted, as conf.py would at import."""

    OPERATIONS = {
        ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
        ast.Pow: lambda a, b: a ** b,
    }

    COMPARISONS = {
        ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
        ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    }

    def __init__(self, known):
        self.known = known

    def value(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bytes, bool)) or \
                isinstance(node, ast.Constant) and node.value is None:
            return node.value
        if isinstance(node, ast.Name) and node.id in self.known:
            return self.known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            self.require_number(operand, node)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in self.OPERATIONS:
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, int) and right > 64:
                raise Untranslatable("an exponent above 64")
            if isinstance(left, (str, bytes)) or isinstance(right, (str, bytes)):
                if not (isinstance(node.op, ast.Add) and type(left) is type(right)):
                    raise Untranslatable("an operation on text other than concatenation")
            else:
                self.require_number(left, node)
                self.require_number(right, node)
            try:
                return self.OPERATIONS[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError) as error:
                raise Untranslatable(str(error)) from None
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in self.COMPARISONS:
            left, right = self.value(node.left), self.value(node.comparators[0])
            try:
                return self.COMPARISONS[type(node.ops[0])](left, right)
            except TypeError as error:
                raise Untranslatable(str(error)) from None
        if isinstance(node, ast.BoolOp):
            values = [self.value(value) for value in node.values]
            result = values[0]
            for value in values[1:]:
                result = (result and value) if isinstance(node.op, ast.And) else (result or value)
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.value(node.operand)
        if isinstance(node, ast.IfExp):
            return self.value(node.body) if self.value(node.test) else self.value(node.orelse)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {self.value(key): self.value(value) for key, value in zip(node.keys, node.values)}
        raise Untranslatable("not a constant expression")

    @staticmethod
    def require_number(value, node):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Untranslatable("arithmetic on a %s" % type(value).__name__)
