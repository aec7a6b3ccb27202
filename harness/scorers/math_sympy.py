"""Compare two LaTeX answers by value with sympy, for a small safe subset of LaTeX.

The subset: integers, decimals, ``+ - * /``, ``\\frac``, ``\\sqrt``, ``\\sqrt[n]``,
powers with small exponents, ``\\pi``, ``\\cdot``, ``\\times`` and
single-letter variables. Anything else returns "not equal" (the caller has
already compared the strings). The converted text is checked against a token
whitelist before sympy parses it, because sympy's parser evaluates Python code
and the answers come from model output.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

MAX_EXPRESSION_CHARS = 120
# Absolute tolerance on |a - b| / max(1, |b|) for constant expressions.
TOLERANCE = 1e-9

_ALLOWED_CHARS = re.compile(r"^[0-9a-zA-Z+\-*/().\s]*$")
_IDENTIFIER = re.compile(r"[A-Za-z]+")
_ALLOWED_NAMES = {"sqrt", "pi"}
# After "**" only a short integer, a letter, or a short integer fraction may follow,
# so no input can ask sympy for a huge power.
_SAFE_EXPONENT = re.compile(r"\*\*(?:\(?-?\d{1,3}\)?|[A-Za-z]|\(1/\(?\d{1,2}\)?\))(?![\d*])")


def _group(text: str, start: int) -> tuple[str, int] | None:
    """Return (content, index after the group) for a ``{...}`` group or single character at ``start``."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return None
    if text[start] != "{":
        return text[start], start + 1
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index], index + 1
    return None


def latex_to_expression(latex: str) -> str | None:
    """Return a sympy-parsable expression for ``latex``, or None if it is outside the subset."""
    text = latex.replace("\\cdot", "*").replace("\\times", "*").replace("\\pi", " pi ")
    output: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("\\frac", index):
            numerator = _group(text, index + 5)
            if numerator is None:
                return None
            denominator = _group(text, numerator[1])
            if denominator is None:
                return None
            top, bottom = latex_to_expression(numerator[0]), latex_to_expression(denominator[0])
            if top is None or bottom is None:
                return None
            output.append(f"(({top})/({bottom}))")
            index = denominator[1]
        elif text.startswith("\\sqrt", index):
            index += 5
            root = "2"
            if index < len(text) and text[index] == "[":
                close = text.find("]", index)
                if close < 0:
                    return None
                root, index = text[index + 1 : close], close + 1
            radicand = _group(text, index)
            if radicand is None:
                return None
            inner = latex_to_expression(radicand[0])
            if inner is None or not re.fullmatch(r"\d{1,2}", root):
                return None
            output.append(f"sqrt({inner})" if root == "2" else f"(({inner})**(1/{root}))")
            index = radicand[1]
        elif text[index] == "^":
            exponent = _group(text, index + 1)
            if exponent is None:
                return None
            inner = latex_to_expression(exponent[0])
            if inner is None:
                return None
            output.append(f"**({inner})" if len(exponent[0]) > 1 else f"**{inner}")
            index = exponent[1]
        elif text[index] == "\\":
            return None
        elif text[index] in "{}":
            output.append("(" if text[index] == "{" else ")")
            index += 1
        else:
            output.append(text[index])
            index += 1
    return "".join(output)


def _split_names(expression: str) -> str:
    # Only single letters (bound to Symbols), sqrt and pi reach sympy. Any other
    # run of letters becomes a product of single letters ("xy" -> "(x*y)"),
    # so no sympy function or Python keyword can be named by the input.
    def split(match: re.Match[str]) -> str:
        name = match.group(0)
        if len(name) == 1 or name in _ALLOWED_NAMES:
            return name
        return "(" + "*".join(name) + ")"

    return _IDENTIFIER.sub(split, expression)


def _is_safe(expression: str) -> bool:
    if len(expression) > MAX_EXPRESSION_CHARS or not _ALLOWED_CHARS.match(expression):
        return False
    if re.search(r"[A-Za-z)]\.|\.[A-Za-z(]", expression):
        return False  # a dot next to a name would be attribute access, not a decimal point
    powers = expression.count("**")
    return powers == len(_SAFE_EXPONENT.findall(expression))


def _parse(expression: str):  # noqa: ANN202  (sympy.Expr, imported lazily)
    from sympy import Symbol, pi, sqrt
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    names = {chr(code): Symbol(chr(code)) for code in [*range(65, 91), *range(97, 123)]}
    names.update({"pi": pi, "sqrt": sqrt})
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    return parse_expr(expression, local_dict=names, transformations=transformations)


def symbolic_equal(left: str, right: str) -> bool:
    """Return whether two normalized LaTeX answers have the same value under sympy.

    Both must convert within the safe subset. Constant expressions are compared
    numerically; expressions with variables must simplify to a zero difference.
    """
    left_expression, right_expression = latex_to_expression(left), latex_to_expression(right)
    if left_expression is None or right_expression is None:
        return False
    left_expression, right_expression = _split_names(left_expression), _split_names(right_expression)
    if not (_is_safe(left_expression) and _is_safe(right_expression)):
        return False
    try:
        from sympy import N, simplify

        a, b = _parse(left_expression), _parse(right_expression)
        if a.free_symbols or b.free_symbols:
            if a.free_symbols != b.free_symbols:
                return False
            return bool(simplify(a - b) == 0)
        difference = complex(N(a - b, 30))
        scale = max(1.0, abs(complex(N(b, 30))))
        return abs(difference) / scale < TOLERANCE
    except Exception as error:  # noqa: BLE001  (sympy raises many types on odd input)
        logger.debug("sympy could not compare %r and %r: %s", left, right, error)
        return False
