#!/usr/bin/env python3
"""htmlcheck.py PAGE [ROWS.json]: checks the console page strictly enough
for our own HTML and prints what it shows.

Checks: <!DOCTYPE html> first; every element but the void ones closed, in
order (no implicit closing: </td> and </tr> are always written); no
self-closed non-void element; no duplicate id; no <script>, no external
resource (src, or an href, action or url() that is not a local path);
entities only well-formed. Exits 1 with one line per problem.

With ROWS.json, writes {"rows": {ID: [cell text, ...]}, "title": ...}
for every <tr id=...> (cell texts with blanks collapsed), so that a test
can compare the page with /status.
"""
import json
import re
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack = []
        self.errors = []
        self.ids = set()
        self.decl = None
        self.seen_tag = False
        self.rows = {}
        self.row = None
        self.cell = None
        self.title = ""
        self.in_title = False

    def err(self, msg):
        self.errors.append("line %d col %d: %s" % (self.getpos() + (msg,)))

    def handle_decl(self, decl):
        if self.seen_tag:
            self.err("doctype after the first tag")
        self.decl = decl

    def handle_starttag(self, tag, attrs):
        self.seen_tag = True
        a = dict(attrs)
        if tag == "script":
            self.err("a <script>")
        if "src" in a:
            self.err("<%s src=%r>: an external resource" % (tag, a["src"]))
        for k in ("href", "action"):
            if k in a and not re.fullmatch(r"/[A-Za-z0-9_./%-]*", a[k] or ""):
                self.err("<%s %s=%r>: not a local path" % (tag, k, a[k]))
        if "style" in a and "url(" in (a["style"] or ""):
            self.err("url() in a style attribute")
        if "id" in a:
            if a["id"] in self.ids:
                self.err("duplicate id %r" % a["id"])
            self.ids.add(a["id"])
        if tag == "tr" and "id" in a:
            self.row = a["id"]
            self.rows[self.row] = []
        if tag in ("td", "th") and self.row is not None:
            self.cell = []
        if tag == "title":
            self.in_title = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.err("self-closed <%s/>" % tag)
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.err("</%s> of a void element" % tag)
            return
        if not self.stack or self.stack[-1] != tag:
            self.err("</%s> does not close <%s>" %
                     (tag, self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.rows[self.row].append(" ".join("".join(self.cell).split()))
            self.cell = None
        if tag == "tr":
            self.row = None
        if tag == "title":
            self.in_title = False

    def text(self, s):
        if self.cell is not None:
            self.cell.append(s)
        if self.in_title:
            self.title += s

    def handle_data(self, data):
        if re.search(r"[<>]", data):
            self.err("an unescaped < or > in text")
        if "style" in self.stack and "url(" in data:
            self.err("url() in the style sheet")
        self.text(data)

    def handle_entityref(self, name):
        if name not in ("amp", "lt", "gt", "quot", "apos", "nbsp"):
            self.err("unknown entity &%s;" % name)
        self.text({"amp": "&", "lt": "<", "gt": ">", "quot": '"',
                   "apos": "'", "nbsp": " "}.get(name, ""))

    def handle_charref(self, name):
        try:
            self.text(chr(int(name[1:], 16) if name[:1] in "xX"
                          else int(name)))
        except ValueError:
            self.err("bad character reference &#%s;" % name)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    p = Page()
    p.feed(text)
    p.close()
    if (p.decl or "").lower() != "doctype html":
        p.errors.append("no <!DOCTYPE html>")
    if p.stack:
        p.errors.append("not closed at the end: %s" % " ".join(p.stack))
    for e in p.errors[:30]:
        print(e)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump({"rows": p.rows, "title": p.title}, f, indent=1)
    sys.exit(1 if p.errors else 0)


main()
