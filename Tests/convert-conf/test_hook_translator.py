"""Unit tests of scripts/lib/hook_translator.py: each form it translates is run in lua5.4 and must
give what Python gives; each form it refuses names itself. Run by scripts/test:

    python3 -m unittest discover -s Tests/convert-conf -p 'test_*.py'
"""
import ast
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
from hook_translator import ConstantFolder, Untranslatable, translate_function  # noqa: E402

# Just enough of conf.lua's globals for the translated functions to run outside the daemon.
PRELUDE = """
function ipToList(ip) local t = {} for o in ip:gmatch("%d+") do t[#t + 1] = tonumber(o) end return t end
function Definition(fields) return fields end
"""


def lua(python_source, call):
    """Translates the one function in `python_source`, runs `print(call)` after it in lua5.4."""
    node = ast.parse(python_source).body[0]
    program = PRELUDE + "\n".join(translate_function(node)) + "\nprint(" + call + ")\n"
    result = subprocess.run(["lua5.4", "-"], input=program, capture_output=True, text=True, timeout=10)
    if result.returncode != 0:
        raise AssertionError("lua5.4 failed: %s\n%s" % (result.stderr, program))
    return result.stdout.strip()


def python(python_source, call):
    scope = {}
    exec(python_source, scope)
    value = eval(call, scope)
    return {True: "true", False: "false", None: "nil"}.get(value, str(value)) if not isinstance(value, int) or isinstance(value, bool) else str(value)


class SameResultAsPython(unittest.TestCase):
    def same(self, source, call):
        self.assertEqual(lua(source, call), python(source, call), source)

    def test_arithmetic_keeps_python_priorities(self):
        source = "def f(a, b, c):\n    return a - (b - c) * 2 + a % b ** 2\n"
        # ** is ^ in Lua, whose result is a float: compare the numbers.
        self.assertEqual(float(lua(source, "f(7, 3, 1)")), float(python(source, "f(7, 3, 1)")))
        self.same("def f(a, b):\n    return a * b - a // b + -a % b\n", "f(7, 3)")

    def test_left_associative_subtraction_keeps_its_parentheses(self):
        self.same("def f(a, b, c):\n    return a - (b + c)\n", "f(10, 3, 2)")

    def test_zero_is_false_in_a_test_as_in_python(self):
        source = "def f(n):\n    if n % 3:\n        return 'odd'\n    return 'even'\n"
        self.same(source, "f(9)")
        self.same(source, "f(10)")

    def test_not_of_a_number_means_zero(self):
        source = "def f(n):\n    return not n % 3\n"
        self.same(source, "f(9)")
        self.same(source, "f(10)")

    def test_elif_chain_and_locals(self):
        source = ("def f(n):\n    x = n * 2\n    if x > 10:\n        x = 1\n    elif x > 4:\n        x = 2\n"
                  "    else:\n        x += 5\n    return x\n")
        for n in (1, 3, 9):
            self.same(source, "f(%d)" % n)

    def test_membership_in_a_literal_list(self):
        source = "def f(m):\n    return m in ['a', 'b'] and m not in ('b',)\n"
        self.same(source, "f('a')")
        self.same(source, "f('b')")

    def test_string_concatenation_and_startswith(self):
        source = "def f(method):\n    return method.startswith('REQUEST:') and 'x' + method + 'y' == 'xREQUEST:RENEWy'\n"
        self.same(source, "f('REQUEST:RENEW')")
        self.same(source, "f('DISCOVER')")

    def test_is_none(self):
        source = "def f(relay_ip):\n    return relay_ip is None\n"
        self.assertEqual(lua(source, "f(nil)"), "true")
        self.assertEqual(lua(source, "f('198.51.100.1')"), "false")


class PythonMeaningsInLua(unittest.TestCase):
    def test_an_address_octet_is_read_with_iptolist(self):
        source = "def f(definition):\n    return definition.ip[3]\n"
        self.assertEqual(lua(source, 'f({ip = "192.0.2.99"})'), "99")

    def test_a_list_index_is_shifted_to_lua(self):
        self.assertEqual(lua("def f(xs):\n    return xs[0]\n", "f({'first', 'second'})"), "first")

    def test_packet_methods_use_a_colon_and_modules_a_dot(self):
        node = ast.parse("def f(packet):\n    packet.setOption('renewal_time_value', 60)\n    logger.info('x')\n").body[0]
        text = "\n".join(translate_function(node))
        self.assertIn('packet:setOption("renewal_time_value", 60)', text)
        self.assertIn('logger.info("x")', text)

    def test_a_definition_becomes_a_table_call(self):
        source = "def f(mac):\n    return databases.generic.Definition(ip='192.0.2.10', lease_time=600)\n"
        self.assertEqual(lua(source, "f('aa:bb:cc:dd:ee:ff').lease_time"), "600")

    def test_random_random_is_math_random(self):
        self.assertEqual(lua("def f():\n    return random.random() < 1\n", "f()"), "true")


class Refusals(unittest.TestCase):
    def refused(self, source, words):
        node = ast.parse(source).body[0]
        with self.assertRaises(Untranslatable) as caught:
            translate_function(node)
        self.assertIn(words, str(caught.exception))

    def test_a_loop_is_refused_by_name(self):
        self.refused("def f(xs):\n    for x in xs:\n        pass\n", "a For statement")

    def test_a_python_module_call_is_refused(self):
        self.refused("def f():\n    return os.path.join('a', 'b')\n", "Python module")

    def test_a_computed_index_is_refused(self):
        self.refused("def f(xs, i):\n    return xs[i]\n", "computed index")

    def test_percent_formatting_is_refused(self):
        self.refused("def f(n):\n    return 'n=%d' % n\n", "%-formatting")

    def test_an_import_of_a_site_module_is_refused(self):
        self.refused("def init():\n    import _handlers\n", "import of _handlers")

    def test_a_lua_keyword_as_a_name_is_refused(self):
        self.refused("def f(end):\n    return end\n", "Lua keyword")


class Folding(unittest.TestCase):
    def fold(self, text, known=None):
        return ConstantFolder(known or {}).value(ast.parse(text, mode="eval").body)

    def test_arithmetic_concatenation_and_known_settings(self):
        self.assertEqual(self.fold("60 * 10"), 600)
        self.assertEqual(self.fold("2 ** 8"), 256)
        self.assertEqual(self.fold("'a' + 'b'"), "ab")
        self.assertEqual(self.fold("BASE // 4", {"BASE": 600}), 150)
        self.assertEqual(self.fold("1 if DEBUG else 2", {"DEBUG": False}), 2)

    def test_what_is_not_constant_is_refused(self):
        for text in ("os.getenv('X')", "UNKNOWN + 1", "'a' * 3", "1 / 0", "2 ** 1000"):
            with self.assertRaises(Untranslatable, msg=text):
                self.fold(text)


if __name__ == "__main__":
    unittest.main()
