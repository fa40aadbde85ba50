"""Build the demo PDFs in demo/data/policies/: ``python -m tools.build_demo_pdfs``.

Each demo file is laid out as HTML (the document's text from its Markdown file beside the
PDF, read by ``demo.content_data``, in the shape of a printed official document, and an
annex written here) and printed to PDF by
headless Chromium. Then the PDF is read back with the project's own extraction
(``cms.extraction.extract_text``) and checked: every paragraph and table cell must come
back intact, and the file must stay small.

Needs ``/usr/bin/chromium`` and the TrueType font AR PL UMing (Debian:
``apt-get install chromium fonts-arphic-uming``). The font matters: Chromium embeds a
TrueType font as a small subset with a proper ToUnicode map, but turns OpenType/CFF fonts
such as Noto CJK, and any synthetic bold, into Type 3 glyph drawings, which are several
times larger. So the layout uses one font and no bold.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from demo import content_data
from demo.content_data import Heading, Paragraph, PolicyDocument
from demo.files import DEMO_FILES, DemoFile

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FONT = "AR PL UMing CN"
MAX_BYTES = 150 * 1024


@dataclass(frozen=True)
class Annex:
    """An annex (附件) printed after the document: text, a table, notes."""

    title: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]  # of the columns, in per cent
    rows: tuple[tuple[str, ...], ...]  # a row of one cell is a section heading
    intro: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    landscape: bool = False
    form_header: str = ""


STANDARDS_ANNEX = Annex(
    title="机关党支部标准化建设考评细则",
    intro=(
        "本细则依据《机关党支部标准化建设工作方案》制定，用于党支部对标自查和考评验收。"
        "考评满分为100分，分六个方面、二十四项指标。",
    ),
    columns=("序号", "考评指标", "分值", "考评方法"),
    widths=(8, 62, 9, 21),
    rows=(
        ("一、组织设置（15分）",),
        ("1", "党支部按规定设立，成立和调整有上级党组织的批复", "4", "查阅批复文件"),
        ("2", "支部委员会按期换届，换届选举程序规范", "4", "查阅选举材料"),
        ("3", "党员人数较多的党支部合理划分党小组，党小组长明确", "3", "查阅支部记录"),
        ("4", "党支部名称、隶属关系和党员信息在信息系统中准确", "4", "系统核查"),
        ("二、班子建设（15分）",),
        ("5", "书记、委员配备齐全，分工明确", "4", "查阅分工文件"),
        ("6", "书记每年参加一次集中培训", "4", "查阅培训记录"),
        ("7", "书记每年向党员大会报告工作，接受党员评议", "4", "查阅会议记录"),
        ("8", "支部委员之间、委员与党员之间经常开展谈心谈话", "3", "个别访谈"),
        ("三、组织生活（25分）",),
        ("9", "支部党员大会每季度召开一次", "5", "查阅会议记录"),
        ("10", "支部委员会会议每月召开一次", "5", "查阅会议记录"),
        ("11", "党课每季度一次，书记每年至少讲一次党课", "5", "查阅党课记录"),
        ("12", "主题党日每月开展，内容与中心工作结合", "5", "查阅活动记录"),
        ("13", "每年召开组织生活会，开展民主评议党员", "5", "查阅会议记录"),
        ("四、党员管理（20分）",),
        ("14", "党员花名册和党员信息及时更新，与实际相符", "5", "系统核查"),
        ("15", "党费按月收缴、按季度上缴，台账清楚", "5", "查阅党费台账"),
        ("16", "流动党员去向明确，保持经常联系", "5", "个别访谈"),
        ("17", "发展党员程序规范，材料齐全", "5", "查阅发展材料"),
        ("五、工作机制（15分）",),
        ("18", "年度工作计划和工作总结按时报送", "4", "查阅报送记录"),
        ("19", "重要事项按规定向党总支请示报告", "4", "查阅请示报告"),
        ("20", "会议记录、党费台账等工作台账规范完整", "4", "查阅工作台账"),
        ("21", "党员提出的意见建议有回应、有落实", "3", "个别访谈"),
        ("六、基础保障（10分）",),
        ("22", "有固定或者共享的党员活动场所", "3", "现场查看"),
        ("23", "党建工作经费按规定使用，账目清楚", "4", "查阅财务凭证"),
        ("24", "党员学习资料齐全，学习平台使用正常", "3", "系统核查"),
    ),
    notes=(
        "一、考评以查阅日常工作记录和个别访谈党员为主，不要求党支部另行制作佐证材料，"
        "不以展板、活动室装修等作为评分依据。",
        "二、得分90分以上的党支部可以推荐为示范党支部，75分至89分的为达标，75分以下的为未达标。",
        "三、有下列情形之一的，不得评为达标：年度内未召开组织生活会的；"
        "党费收缴存在截留、挪用问题的；党员花名册与实际情况严重不符的。",
        "四、考评结果由各党总支初审，机关党委组织部复核后确认。",
    ),
)

DUES_ANNEX = Annex(
    title="党费交纳基数核定表（2022年度）",
    form_header="党支部：＿＿＿＿＿＿＿＿　　　填表日期：　　　年　　月　　日",
    columns=(
        "序号",
        "姓名",
        "所在处室",
        "上年度月平均工资收入（元）",
        "应扣除的个人所得税和个人缴纳的社会保险费、住房公积金（元）",
        "交纳基数（元）",
        "交纳比例",
        "每月交纳党费（元）",
        "本人签字",
    ),
    widths=(6, 9, 11, 13, 20, 11, 8, 11, 11),
    rows=(
        ("示例", "某某", "办公室", "9800.00", "2150.00", "7650.00", "1.5%", "114.75", ""),
        *((str(number), "", "", "", "", "", "", "", "") for number in range(1, 6)),
    ),
    notes=(
        "填表说明：",
        "1．交纳基数为上一年度月平均工资收入中计入个人所得的固定部分，"
        "扣除个人所得税以及个人缴纳的养老保险、医疗保险、失业保险和住房公积金后确定。",
        "2．交纳比例：交纳基数在3000元以下（含3000元）的，交纳0.5%；3000元以上至5000元"
        "（含5000元）的，交纳1%；5000元以上至10000元（含10000元）的，交纳1.5%；"
        "10000元以上的，交纳2%。",
        "3．离退休党员以本人月离退休费总额为基数，5000元以下（含5000元）的交纳0.5%，"
        "5000元以上的交纳1%。",
        "4．本表由党员本人核对签字，一式两份，党支部和机关党委办公室各存一份。",
    ),
    landscape=True,
)

ANNEXES = {
    "policy-2025-organisation-02": STANDARDS_ANNEX,
    "policy-2022-office-05": DUES_ANNEX,
}

STYLE = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
@page wide {{ size: A4 landscape; margin: 20mm 25mm 18mm 25mm; }}
html {{ font-family: "{FONT}"; font-size: 16pt; line-height: 1.6; color: #000; }}
body {{ margin: 0; }}
.masthead {{ color: #c00; font-size: 30pt; text-align: center; letter-spacing: 0.08em;
  line-height: 1.3; margin-top: 6mm; }}
.number {{ text-align: center; margin: 12mm 0 2mm; }}
.rule {{ border-top: 2px solid #c00; margin-bottom: 12mm; }}
h1 {{ font-size: 22pt; font-weight: normal; text-align: center; line-height: 1.5;
  margin: 0 0 8mm; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
p.addressee {{ text-indent: 0; }}
p.section {{ text-indent: 2em; font-size: 16pt; letter-spacing: 0.02em; }}
p.annex-ref {{ margin-top: 1em; }}
.signature {{ margin-top: 1.5em; text-align: right; padding-right: 2em;
  break-inside: avoid; }}
.signature p {{ text-indent: 0; text-align: right; }}
.annex {{ break-before: page; }}
.annex.wide {{ page: wide; }}
.annex-label {{ text-indent: 0; }}
.annex h2 {{ font-size: 20pt; font-weight: normal; text-align: center; margin: 4mm 0 6mm; }}
.annex p.form-header {{ text-indent: 0; font-size: 12pt; margin-bottom: 2mm; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12pt; line-height: 1.5;
  margin: 4mm 0 6mm; }}
th, td {{ border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: middle; }}
th {{ font-weight: normal; text-align: center; }}
td.center {{ text-align: center; }}
td.group {{ padding-left: 3mm; }}
.wide td {{ height: 7mm; }}
.notes p {{ font-size: 13pt; }}
.wide {{ line-height: 1.4; }}
.wide h2 {{ margin: 0 0 3mm; }}
.wide table {{ margin: 2mm 0 3mm; }}
.wide .notes p {{ font-size: 11pt; }}
"""


def _document(slug: str) -> PolicyDocument:
    return next(item for item in content_data.POLICY_DOCUMENTS if item.slug == slug)


def _chinese_date(document: PolicyDocument) -> str:
    day = document.issue_date
    return f"{day.year}年{day.month}月{day.day}日"


def _paragraph(text: str, css_class: str = "") -> str:
    lines = "<br>".join(html.escape(line) for line in text.split("\n"))
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{lines}</p>"


def _body(document: PolicyDocument) -> list[str]:
    parts = []
    for number, block in enumerate(document.body):
        if isinstance(block, Heading):
            parts.append(_paragraph(block.text, "section"))
        elif isinstance(block, Paragraph):
            addressee = number == 0 and block.text.endswith("：")
            parts.append(_paragraph(block.text, "addressee" if addressee else ""))
    return parts


def _annex(annex: Annex) -> list[str]:
    parts = [
        f'<section class="annex{" wide" if annex.landscape else ""}">',
        _paragraph("附件", "annex-label"),
        f"<h2>{html.escape(annex.title)}</h2>",
        *(_paragraph(text) for text in annex.intro),
    ]
    if annex.form_header:
        parts.append(_paragraph(annex.form_header, "form-header"))
    parts.append("<table><colgroup>")
    parts.extend(f'<col style="width: {width}%">' for width in annex.widths)
    parts.append("</colgroup><thead><tr>")
    parts.extend(f"<th>{html.escape(column)}</th>" for column in annex.columns)
    parts.append("</tr></thead><tbody>")
    for row in annex.rows:
        if len(row) == 1:
            span = len(annex.columns)
            parts.append(f'<tr><td class="group" colspan="{span}">{html.escape(row[0])}</td></tr>')
            continue
        cells = []
        for index, cell in enumerate(row):
            wide_column = len(cell) > 8 and index > 0
            css = "" if wide_column else ' class="center"'
            cells.append(f"<td{css}>{html.escape(cell)}</td>")
        parts.append(f"<tr>{''.join(cells)}</tr>")
    parts.append('</tbody></table><div class="notes">')
    for text in annex.notes:
        parts.append(_paragraph(text, "addressee" if text.endswith("：") else ""))
    parts.append("</div></section>")
    return parts


def document_html(demo_file: DemoFile) -> str:
    """The whole printed document as one HTML page."""
    document = _document(demo_file.page_slug)
    annex = ANNEXES[demo_file.page_slug]
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(document.title)}</title><style>{STYLE}</style></head><body>",
        f'<div class="masthead">{html.escape(document.issuer.name)}文件</div>',
        f'<div class="number">{html.escape(document.document_number)}</div>',
        '<div class="rule"></div>',
        f"<h1>{html.escape(document.title)}</h1>",
        *_body(document),
        _paragraph(f"附件：{annex.title}", "annex-ref"),
        '<div class="signature">',
        _paragraph(document.issuer.name),
        _paragraph(_chinese_date(document)),
        "</div>",
        *_annex(annex),
        "</body></html>",
    ]
    return "\n".join(parts)


def print_pdf(page: str, target: Path) -> None:
    """Print an HTML page to ``target`` with headless Chromium (no network, no profile)."""
    with tempfile.TemporaryDirectory(prefix="demo-pdf-") as work:
        source = Path(work) / "page.html"
        source.write_text(page, encoding="utf-8")
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


def expected_texts(demo_file: DemoFile) -> list[str]:
    """Everything that must come back out of the PDF: paragraphs, headings, cells."""
    document = _document(demo_file.page_slug)
    annex = ANNEXES[demo_file.page_slug]
    texts = [document.title, document.document_number, annex.title]
    texts += [block.text for block in document.body if isinstance(block, Heading | Paragraph)]
    texts += [*annex.intro, *annex.notes, *annex.columns]
    texts += [cell for row in annex.rows for cell in row if cell]
    return texts


def check(demo_file: DemoFile) -> list[str]:
    """Problems with the built PDF: too large, or text that does not come back intact."""
    from cms.extraction import extract_text

    data = demo_file.path.read_bytes()
    problems = []
    if len(data) > MAX_BYTES:
        size = f"{len(data) // 1024} KB, over {MAX_BYTES // 1024} KB"
        problems.append(f"{demo_file.filename}: {size}")
    result = extract_text(data, "pdf")
    extracted = _squeezed(result.text)
    for text in expected_texts(demo_file):
        if _squeezed(text) not in extracted:
            problems.append(f"{demo_file.filename}: not extracted intact: {text[:40]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only check the committed PDFs")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    problems: list[str] = []
    for demo_file in DEMO_FILES:
        if not options.check:
            print_pdf(document_html(demo_file), demo_file.path)
        problems += check(demo_file)
        size = demo_file.path.stat().st_size // 1024
        print(f"{demo_file.filename}: {size} KB")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
