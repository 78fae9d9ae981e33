"""The CSS reader and selector matcher behind what counts as hidden."""

from __future__ import annotations

import pytest
from huizong.portal.htmlstyle import (
    UnsupportedSelector,
    cascade,
    compile_selector_list,
    parse_declarations,
    parse_stylesheet,
    select,
    select_one,
    tokenize,
)
from huizong.portal.htmltext import parse_document

DOC = parse_document(
    "<html><body>"
    '<div id="main" class="box wide">'
    '<p class="a">one</p><p class="a b" data-role="Lead-in">two</p><span>three</span>'
    '<ul><li class="x">1</li><li>2</li><li>3</li><li class="x">4</li></ul>'
    "</div>"
    '<div class="other"><p class="a">five</p></div>'
    "</body></html>"
)


def texts(selector: str) -> list[str]:
    assert DOC is not None
    return ["".join(el.itertext()) for el in select(DOC, selector)]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("p.a", ["one", "two", "five"]),
        (".a.b", ["two"]),
        ("#main .a", ["one", "two"]),
        ("div.box > p", ["one", "two"]),
        (".box>span", ["three"]),
        ("p + span", ["three"]),
        ("p.b ~ ul li.x", ["1", "4"]),
        ("li:first-child, li:last-child", ["1", "4"]),
        ("li:nth-child(2n+1)", ["1", "3"]),
        ("li:nth-child(even)", ["2", "4"]),
        ("li:nth-last-child(1)", ["4"]),
        ("li:not(.x)", ["2", "3"]),
        ("p:first-of-type", ["one", "five"]),
        ('[data-role="lead-in" i]', ["two"]),
        ("[data-role|=Lead]", ["two"]),
        ("[data-role^=Lead][data-role$=in]", ["two"]),
        ("[class~=b]", ["two"]),
        ("[data-role*=d-i]", ["two"]),
        ("DIV.other P", ["five"]),
        ("#\\6d ain > span", ["three"]),
    ],
)
def test_selector_matches_like_a_browser(selector: str, expected: list[str]) -> None:
    assert texts(selector) == expected


@pytest.mark.parametrize(
    "selector", ["a:hover", "p::before", "p:before", "svg|rect", "p >", "", "li:nth-child(x)"]
)
def test_selectors_outside_the_subset_are_refused(selector: str) -> None:
    with pytest.raises(UnsupportedSelector):
        compile_selector_list(selector)


def test_specificity_counts_ids_classes_and_types() -> None:
    (compiled,) = compile_selector_list("div#main p.a:not(.b)")
    assert compiled.specificity == (1, 2, 2)


def test_select_one_takes_the_first_in_document_order_across_a_list() -> None:
    assert DOC is not None
    element = select_one(DOC, "span, p.b")
    assert element is not None and "".join(element.itertext()) == "two"


def test_stylesheet_comments_strings_at_rules_and_escapes() -> None:
    sheet = """
    /* .gone { display: none } */
    @charset "utf-8";
    @import url("x.css");
    @font-face { font-family: x; src: url(data:font/woff;base64,AAAA{}) }
    .quote::after { content: "} .fake { display: none }" }
    @media print { .p { display: none } }
    @media screen and (max-width: 600px) { .m { display: none } }
    @media screen, print { .s { display: none } }
    @supports (display: grid) { .g { display: none } }
    .e { di\\73play: NONE !IMPORTANT }
    <!-- .h { visibility: hidden } -->
    """
    rules = {r.selector: r.declarations for r in parse_stylesheet(sheet)}
    assert set(rules) == {".quote::after", ".s", ".g", ".e", ".h"}
    (decl,) = rules[".e"]
    assert (decl.name, decl.value, decl.important) == ("display", "none", True)


def test_declarations_last_wins_and_bad_ones_are_skipped() -> None:
    declarations = parse_declarations(
        list(tokenize("color: red; display:none;; display : block ; visibility hidden; x"))
    )
    assert [(d.name, d.value) for d in declarations] == [
        ("color", "red"),
        ("display", "none"),
        ("display", "block"),
    ]


def test_cascade_orders_origin_importance_specificity_and_position() -> None:
    root = parse_document(
        "<html><head><style>"
        ".h { display: none } #k { display: block } .late { display: none }"
        ".imp { display: none !important } .v { visibility: hidden }"
        "</style><style media='print'>.pr { display: none }</style></head><body>"
        '<p id="k" class="h">shown: id beats class</p>'
        '<p class="late" style="display: block">shown: inline beats sheet</p>'
        '<p class="imp" style="display: block">hidden: important beats inline</p>'
        '<p class="pr">shown: print sheet</p>'
        '<p class="v">hidden</p><p hidden>hidden</p>'
        "</body></html>"
    )
    assert root is not None
    styles = cascade(root)
    hidden = sorted("".join(el.itertext()) for el in styles.display_none)
    assert hidden == ["hidden", "hidden: important beats inline"]
    assert ["".join(el.itertext()) for el, visible in styles.visibility.items() if not visible] == [
        "hidden"
    ]
