#!/usr/bin/env python3
"""The docs check: every page of the course still says what the code does.

    python3 tests/test_docs.py build              # build = the CMake (or Meson) release build folder
    python3 tests/test_docs.py build --no-run     # links and translations only (well under a second)
    python3 tests/test_docs.py --self-test        # the check finds the mistakes it is meant to find

Checked, over README.md, README.pt-BR.md, docs/**/*.md, exercises/README.md, examples/**/README*.md:
  - every relative link (text, images, reference-style links, <img src>) lands on a file or folder
    of the repository; a line anchor (#L10 or #L10-L40) names lines that exist;
  - a code link whose text holds a symbol in backticks and has a line anchor, such as
    [`conv2d`](../include/minigan/conv.hpp#L40-L72), finds that symbol inside the range
    (`name()`, `ns::name` and `Type::name` count as `name`): when code moves, the page fails;
  - every page of the course (docs/course.md, docs/lessons/*.md, docs/exercises.md,
    docs/sensor-anomaly.md and each docs/ page that docs/course.md links) exists in English
    (docs/NAME.md) and in Portuguese (docs/pt-BR/NAME.md), and README.md has README.pt-BR.md;
  - every fenced block whose info string is `sh run` runs under bash -e, in a temporary folder
    where build/ is the build folder given, data/ a tiny MNIST-shaped fixture (the one
    tests/test_examples.py writes) and include/, examples/, exercises/, docs/, tests/, benchmarks/
    are the repository's. Each block has a time limit (MINIGAN_DOCS_TIMEOUT seconds, default 120).
    A block it needs from build/ that this build lacks fails it, naming the target to build.
  - a `text expected` block right after a `sh run` block (blank lines between, nothing else) is
    output the page promises: each of its lines must appear, in order, in what the block prints.
    (Use a plain `text` block for output that differs between machines: timings, rounding.)
Every error names the page, the line, the link or block, and what is wrong.
Exit code 0: all passed; 1: something failed; 77 ("skipped", for CTest and Meson): the pages are
fine but `sh run` blocks could not run because this build has no examples at all.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATION = "pt-BR"                     # docs/pt-BR/NAME.md is the Portuguese edition of docs/NAME.md
LINKED_SOURCES = ["include", "examples", "exercises", "docs", "tests", "benchmarks"]
BLOCK_TIMEOUT = float(os.environ.get("MINIGAN_DOCS_TIMEOUT", "120"))


class Report:
    """Collects errors as 'page:line: what'; prints each as it comes."""

    def __init__(self, quiet=False):
        self.errors = []
        self.quiet = quiet

    def error(self, page, line, message):
        text = f"{page}:{line}: {message}" if line else f"{page}: {message}"
        self.errors.append(text)
        if not self.quiet:
            print("FAIL:", text)


# ---- reading a page -------------------------------------------------------------------------

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def split_page(text):
    """(prose lines with fenced blocks blanked out, [fenced blocks as (first line, info, body, last line)])."""
    prose, blocks = [], []
    fence, info, body, start = None, None, [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence, info, body, start = match.group(2), match.group(3).strip(), [], number
                prose.append("")
            else:
                prose.append(line)
        else:
            prose.append("")
            if match and match.group(2).startswith(fence) and not match.group(3).strip():
                blocks.append((start, info, "\n".join(body), number))
                fence = None
            else:
                body.append(line)
    if fence is not None:
        blocks.append((start, info, "\n".join(body), number))   # unclosed: still checked, as markdown renders it
    return prose, blocks


# [text](target "title") where text may hold backticks or one level of [brackets]; ![alt](src) too.
INLINE_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def links_of(prose):
    """[(line number, text, target)] of every link in the prose lines (not inside code spans)."""
    found = []
    for number, line in enumerate(prose, start=1):
        spans = [m.span() for m in CODE_SPAN.finditer(line)]
        inside_code = lambda a, b: any(s <= a and b <= e for s, e in spans)
        for m in INLINE_LINK.finditer(line):
            if not inside_code(*m.span()):
                found.append((number, m.group(1), m.group(2)))
        m = REFERENCE_LINK.match(line)
        if m and not line.lstrip().startswith("[^"):
            found.append((number, m.group(1), m.group(2)))
        for m in HTML_LINK.finditer(line):
            if not inside_code(*m.span()):
                found.append((number, "", m.group(1)))
    return found


def is_external(target):
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) is not None or target.startswith("//")


LINE_ANCHOR = re.compile(r"^L(\d+)(?:-L(\d+))?$")
IDENTIFIER = re.compile(r"^~?[A-Za-z_]\w*(?:(?:::|\.)~?[A-Za-z_]\w*)*(?:<[^<>]*>)?(?:\(\s*[^()]*\))?$")


def symbol_name(code):
    """`ns::Type::name(args)` -> `name`; None when the code span is not a symbol (a path, a flag)."""
    code = code.strip()
    if not IDENTIFIER.match(code):
        return None
    code = re.sub(r"\(.*\)$", "", code)
    code = re.sub(r"<[^<>]*>$", "", code)
    return re.split(r"::|\.", code)[-1].lstrip("~")


def check_link(root, page, number, text, target, report):
    """One relative link of `page` (a path relative to root)."""
    path_part, _, anchor = target.partition("#")
    path_part = urllib.parse.unquote(path_part.split("?")[0])
    if not path_part:
        return   # an anchor on the same page
    resolved = os.path.normpath(os.path.join(root, os.path.dirname(page), path_part))
    shown = os.path.relpath(resolved, root)
    if os.path.relpath(resolved, root).startswith(".."):
        report.error(page, number, f"link ({target}) leaves the repository")
        return
    if not os.path.exists(resolved):
        what = "the page" if shown.endswith(".md") else "the file or folder"
        report.error(page, number, f"link ({target}): {what} {shown} does not exist")
        return
    line_anchor = LINE_ANCHOR.match(anchor)
    if not line_anchor:
        return
    if not os.path.isfile(resolved):
        report.error(page, number, f"link ({target}): {shown} is a folder, a line anchor needs a file")
        return
    with open(resolved, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = int(line_anchor.group(1))
    last = int(line_anchor.group(2) or first)
    if first < 1 or last < first:
        report.error(page, number, f"link ({target}): line range L{first}-L{last} is empty or reversed")
        return
    if last > len(lines):
        report.error(page, number, f"link ({target}): {shown} has {len(lines)} lines, the link asks for "
                                   f"L{first}-L{last}")
        return
    excerpt = "\n".join(lines[first - 1:last])
    for code in CODE_SPAN.finditer(text):
        name = symbol_name(code.group(2))
        if name and not re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", excerpt):
            where = [i + 1 for i, l in enumerate(lines) if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", l)]
            hint = f" (it occurs at line{'s' if len(where) > 1 else ''} {', '.join(map(str, where[:6]))})" \
                if where else " (it occurs nowhere in that file)"
            report.error(page, number, f"link [{text}]({target}): `{name}` is not inside {shown} "
                                       f"L{first}-L{last}{hint}: the code moved, update the line range")


# ---- which pages ----------------------------------------------------------------------------

def checked_pages(root):
    """Every page whose links are checked, relative to root, sorted."""
    patterns = ["README.md", "README.pt-BR.md", "docs/**/*.md", "exercises/README.md", "examples/**/README*.md"]
    pages = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            if os.path.isfile(path):
                pages.add(os.path.relpath(path, root))
    return sorted(pages)


def course_pages(root, report):
    """The English pages (relative to docs/) that must have a Portuguese edition, and each one's reason."""
    required = {"course.md": "the course map", "exercises.md": "the exercises page",
                "sensor-anomaly.md": "a page of the course (the sensor-signal AnoGAN)"}
    for path in glob.glob(os.path.join(root, "docs", "lessons", "*.md")):
        required[os.path.relpath(path, os.path.join(root, "docs"))] = "a lesson"
    course = os.path.join(root, "docs", "course.md")
    if os.path.isfile(course):
        with open(course, encoding="utf-8") as f:
            prose, _ = split_page(f.read())
        for _, _, target in links_of(prose):
            path_part = urllib.parse.unquote(target.partition("#")[0])
            if is_external(target) or not path_part.endswith(".md"):
                continue
            resolved = os.path.normpath(os.path.join(root, "docs", path_part))
            inside_docs = os.path.relpath(resolved, os.path.join(root, "docs"))
            if not inside_docs.startswith("..") and not inside_docs.startswith(TRANSLATION + os.sep):
                required.setdefault(inside_docs, "linked from docs/course.md")
    return required


def check_translations(root, report):
    required = course_pages(root, report)
    for name, why in sorted(required.items()):
        english = os.path.join("docs", name)
        portuguese = os.path.join("docs", TRANSLATION, name)
        has_en = os.path.isfile(os.path.join(root, english))
        has_pt = os.path.isfile(os.path.join(root, portuguese))
        if not has_en and not has_pt:
            report.error(english, 0, f"missing page: {why}, it must exist as {english} and {portuguese}")
        elif not has_en:
            report.error(english, 0, f"missing English edition of {portuguese} ({why})")
        elif not has_pt:
            report.error(portuguese, 0, f"missing Portuguese edition of {english} ({why})")
    # A Portuguese page of the course with no English original is as out of step as the reverse.
    for path in glob.glob(os.path.join(root, "docs", TRANSLATION, "**", "*.md"), recursive=True):
        name = os.path.relpath(path, os.path.join(root, "docs", TRANSLATION))
        if not os.path.isfile(os.path.join(root, "docs", name)):
            report.error(os.path.relpath(path, root), 0, f"missing English edition docs/{name}")
    if os.path.isfile(os.path.join(root, "README.md")) and not os.path.isfile(os.path.join(root, "README.pt-BR.md")):
        report.error("README.pt-BR.md", 0, "missing Portuguese edition of README.md")


# ---- running the `sh run` blocks ------------------------------------------------------------

def runnable_blocks(root, pages):
    """[(page, first line, body, expected lines or None)] of every fenced block whose info string is
    `sh run`. A `text expected` block right after it (only blank lines between) holds lines that the
    output must contain, in that order (each one a substring of an output line)."""
    found = []
    for page in pages:
        with open(os.path.join(root, page), encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        _, blocks = split_page(text)
        for k, (start, info, body, end) in enumerate(blocks):
            if info.split() != ["sh", "run"]:
                continue
            expected = None
            if k + 1 < len(blocks):
                n_start, n_info, n_body, _ = blocks[k + 1]
                between = lines[end:n_start - 1]
                if n_info.split() == ["text", "expected"] and all(not l.strip() for l in between):
                    expected = [l.rstrip() for l in n_body.split("\n") if l.strip()]
            found.append((page, start, body, expected))
    return found


def missing_expected(output, expected):
    """The first expected line not found (in order) in the output, or None when all are there."""
    out_lines = output.split("\n")
    at = 0
    for want in expected:
        while at < len(out_lines) and want not in out_lines[at]:
            at += 1
        if at == len(out_lines):
            return want
        at += 1
    return None


def has_examples(build):
    folder = os.path.join(build, "examples")
    return os.path.isdir(folder) and any(os.access(os.path.join(folder, n), os.X_OK) and
                                         os.path.isfile(os.path.join(folder, n)) for n in os.listdir(folder))


def make_sandbox(root, build):
    """A temporary folder: build/ -> the build, data/ -> a tiny fixture, the source folders -> root's."""
    sandbox = tempfile.mkdtemp(prefix="minigan-docs-")
    os.symlink(os.path.abspath(build), os.path.join(sandbox, "build"))
    for name in LINKED_SOURCES:
        if os.path.isdir(os.path.join(root, name)):
            os.symlink(os.path.join(root, name), os.path.join(sandbox, name))
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from test_examples import make_fixture   # the same IDX fixture the example tests use
    make_fixture(os.path.join(sandbox, "data"))
    return sandbox


def run_blocks(root, build, blocks, report):
    """Runs each block; returns the number run (None when the build has no examples at all)."""
    if not blocks:
        return 0
    if not has_examples(build):
        print(f"SKIPPED: {len(blocks)} `sh run` block(s) not run: {build}/examples holds no program "
              f"(configured with MINIGAN_BUILD_EXAMPLES=OFF?)")
        return None
    sandbox = make_sandbox(root, build)
    try:
        for page, start, body, expected in blocks:
            needed = sorted(set(re.findall(r"(?<![\w./-])(?:\./)?(build/[\w./+-]*\w)", body)))
            missing = [p for p in needed if not os.path.exists(os.path.join(sandbox, p))]
            if missing:
                report.error(page, start, f"`sh run` block needs {', '.join(missing)}, which the build "
                                          f"{build} does not have (cmake --build {build} --target "
                                          f"{' '.join(os.path.basename(p) for p in missing)})")
                continue
            began = time.time()
            try:
                proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=sandbox, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired as e:
                out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
                report.error(page, start, f"`sh run` block ran past {BLOCK_TIMEOUT:g} s:\n{body}\n--- output ---\n"
                                          f"{out[-3000:]}")
                continue
            if proc.returncode != 0:
                report.error(page, start, f"`sh run` block exited with {proc.returncode}:\n{body}\n"
                                          f"--- output ---\n{proc.stdout[-3000:]}")
            elif expected and missing_expected(proc.stdout, expected) is not None:
                report.error(page, start, f"`sh run` block no longer prints what the page shows after it: "
                                          f"the line\n  {missing_expected(proc.stdout, expected)}\nis missing "
                                          f"(in order) from the output of\n{body}\n--- output ---\n"
                                          f"{proc.stdout[-3000:]}\n--- update the `text expected` block ---")
            else:
                print(f"ran {page}:{start} ({time.time() - began:.1f} s)")
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return len(blocks)


# ---- the whole check ------------------------------------------------------------------------

def check_pages(root, report):
    pages = checked_pages(root)
    count = 0
    for page in pages:
        with open(os.path.join(root, page), encoding="utf-8") as f:
            prose, _ = split_page(f.read())
        for number, text, target in links_of(prose):
            if not is_external(target):
                count += 1
                check_link(root, page, number, text, target, report)
    check_translations(root, report)
    return pages, count


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if "--self-test" in argv:
        return self_test()
    build = args[0] if args else "build"
    report = Report()
    began = time.time()
    pages, count = check_pages(REPO, report)
    print(f"{len(pages)} pages, {count} relative links checked ({time.time() - began:.2f} s)")
    ran = 0
    if "--no-run" not in argv:
        ran = run_blocks(REPO, build, runnable_blocks(REPO, pages), report)
    if report.errors:
        print(f"{len(report.errors)} docs error(s)")
        return 1
    if ran is None:
        return 77
    print(f"all docs checks passed ({ran} `sh run` block(s) ran)")
    return 0


# ---- the self-test: a small repository with known mistakes ----------------------------------

def self_test():
    root = tempfile.mkdtemp(prefix="minigan-docs-self-test-")
    build = os.path.join(root, "build")

    def write(path, text):
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w", encoding="utf-8") as f:
            f.write(text)

    try:
        write("include/lib.hpp", "// a header\nint first();\n\nint conv2d(int x) {\n    return x;\n}\n")
        write("build/examples/hello", "#!/bin/sh\necho hello\n")
        os.chmod(os.path.join(build, "examples", "hello"), 0o755)
        write("README.md", "See [the course](docs/course.md) and [gone](docs/nowhere.md).\n"
                           "Code: [`conv2d()`](include/lib.hpp#L4-L6), [`lib::first`](include/lib.hpp#L2),\n"
                           "moved: [`conv2d`](include/lib.hpp#L1-L2), past the end: [`first`](include/lib.hpp#L2-L99).\n"
                           "In code, not a link: `[x](nowhere.md)`. A folder: [include](include/).\n"
                           "```sh\n[not](checked.md)\n```\n")
        write("README.pt-BR.md", "[o curso](docs/pt-BR/course.md)\n")
        write("docs/course.md", "[lesson 1](lessons/01-a.md), [lesson 2](lessons/02-b.md), [extra](extra.md)\n"
                                "```sh run\nbuild/examples/hello\ntest -d data/mnist && test -f include/lib.hpp\n```\n"
                                "```sh run\nexit 3\n```\n"
                                "```sh run\nbuild/examples/absent --flag\n```\n"
                                "```sh run\nbuild/examples/hello\n```\n\n```text expected\nhello\n```\n"
                                "```sh run\nbuild/examples/hello\n```\n```text expected\ngoodbye\n```\n")
        write("docs/pt-BR/course.md", "[lição 1](lessons/01-a.md)\n")
        write("docs/lessons/01-a.md", "![a picture](../images/missing.png)\n")
        write("docs/pt-BR/lessons/01-a.md", "[`conv2d`](../../../../include/lib.hpp#L4-L6)\n")
        write("docs/extra.md", "extra\n")
        write("docs/exercises.md", "x\n")
        write("docs/pt-BR/exercises.md", "x\n")
        write("docs/pt-BR/lessons/03-only-pt.md", "x\n")

        report = Report(quiet=True)
        pages, _ = check_pages(root, report)
        run_blocks(root, build, runnable_blocks(root, pages), report)
        expected = [
            ("README.md:1:", "docs/nowhere.md does not exist"),
            ("README.md:3:", "`conv2d` is not inside include/lib.hpp L1-L2 (it occurs at line 4)"),
            ("README.md:3:", "has 6 lines, the link asks for L2-L99"),
            ("docs/course.md:1:", "the page docs/lessons/02-b.md does not exist"),
            ("docs/lessons/01-a.md:1:", "the file or folder docs/images/missing.png does not exist"),
            ("docs/pt-BR/lessons/01-a.md:1:", "leaves the repository"),
            ("docs/lessons/02-b.md:", "missing page: linked from docs/course.md"),
            ("docs/pt-BR/extra.md:", "missing Portuguese edition of docs/extra.md"),
            ("docs/sensor-anomaly.md:", "missing page"),
            ("docs/pt-BR/lessons/03-only-pt.md:", "missing English edition docs/lessons/03-only-pt.md"),
            ("docs/course.md:6:", "exited with 3"),
            ("docs/course.md:9:", "needs build/examples/absent, which the build"),
            ("docs/course.md:19:", "no longer prints what the page shows after it: the line\n  goodbye\n"),
        ]
        failures = []
        for prefix, phrase in expected:
            if not any(e.startswith(prefix) and phrase in e for e in report.errors):
                failures.append(f"not reported: {prefix} ... {phrase}")
        for e in report.errors:
            if not any(e.startswith(prefix) and phrase in e for prefix, phrase in expected):
                failures.append(f"reported but not a mistake: {e}")
        for line in failures:
            print("FAIL:", line)
        if failures:
            print("the errors the check reported:\n  " + "\n  ".join(report.errors))
            return 1
        print(f"self-test passed: the {len(expected)} planted mistakes were reported, nothing else")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
