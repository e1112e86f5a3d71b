"""Real files of each format, written at test time with the libraries that read them (odfpy, openpyxl,
python-pptx), the standard library (EML, CSV, ZIP) and Pillow (a scan: text rendered to an image, saved as a
PDF with no text layer)."""

from __future__ import annotations

import datetime
import email
import email.policy
import io
import re
import struct
import zipfile
from email.message import EmailMessage

from tests.formats.compound import compound_file

FONT = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"


def odt(pages: list[list[tuple[int, str]]], encrypted: bool = False) -> bytes:
    """An ODT whose pages (split by soft page breaks) hold (level, text) blocks: level 0 is a paragraph."""
    from odf import table, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    for number, blocks in enumerate(pages):
        if number:
            document.text.addElement(text.SoftPageBreak())
        for level, content in blocks:
            if level < 0:  # a table, its rows separated by "/" and cells by "|"
                grid = table.Table(name=f"Tabel{number}")
                for line in content.split("/"):
                    row = table.TableRow()
                    for value in line.split("|"):
                        cell = table.TableCell()
                        cell.addElement(text.P(text=value))
                        row.addElement(cell)
                    grid.addElement(row)
                document.text.addElement(grid)
            else:
                document.text.addElement(text.H(outlinelevel=level, text=content) if level else text.P(text=content))
    buffer = io.BytesIO()
    document.write(buffer)
    return encrypt_odf(buffer.getvalue()) if encrypted else buffer.getvalue()


def encrypt_odf(data: bytes) -> bytes:
    """The same container with its manifest declaring content.xml encrypted, as an office suite writes it
    (the content itself scrambled)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "META-INF/manifest.xml":
                content = re.sub(
                    rb'(<manifest:file-entry [^>]*manifest:full-path="content.xml"[^>]*)/>',
                    rb'\1><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA">'
                    rb'<manifest:algorithm manifest:algorithm-name="Blowfish CFB"'
                    rb' manifest:initialisation-vector="AAAA"/></manifest:encryption-data></manifest:file-entry>',
                    content)
            elif member.filename == "content.xml":
                content = bytes(b ^ 0x5A for b in content)
            target.writestr(member, content)
    return out.getvalue()


def ods(sheets: dict[str, list[list[str]]], empty_rows: int = 0) -> bytes:
    """An ODS with the given sheets; ``empty_rows`` repeated empty rows after the first sheet's rows."""
    from odf import table, text
    from odf.opendocument import OpenDocumentSpreadsheet

    document = OpenDocumentSpreadsheet()
    for index, (name, rows) in enumerate(sheets.items()):
        grid = table.Table(name=name)
        for values in rows:
            row = table.TableRow()
            for value in values:
                cell = table.TableCell()
                if value:
                    cell.addElement(text.P(text=value))
                row.addElement(cell)
            grid.addElement(row)
        if empty_rows and index == 0:
            grid.addElement(table.TableRow(numberrowsrepeated=empty_rows))
        document.spreadsheet.addElement(grid)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def odp(slides: list[tuple[str, str, str]]) -> bytes:
    """An ODP of (title, text, notes) slides."""
    from odf import draw, presentation, style, text
    from odf.opendocument import OpenDocumentPresentation

    document = OpenDocumentPresentation()
    layout = style.PageLayout(name="Layout")
    document.automaticstyles.addElement(layout)
    master = style.MasterPage(name="Standaard", pagelayoutname=layout)
    document.masterstyles.addElement(master)

    def frame(kind: str, content: str) -> object:
        made = draw.Frame(attributes={"class": kind}, width="20cm", height="4cm", x="1cm", y="1cm")
        box = draw.TextBox()
        box.addElement(text.P(text=content))
        made.addElement(box)
        return made

    for number, (title, body, notes) in enumerate(slides, start=1):
        page = draw.Page(name=f"dia{number}", masterpagename=master)
        page.addElement(frame("title", title))
        page.addElement(frame("outline", body))
        if notes:
            holder = presentation.Notes()
            holder.addElement(frame("notes", notes))
            page.addElement(holder)
        document.presentation.addElement(page)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX with the given sheets and rows."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_with_empty_rows(count: int) -> bytes:
    """An XLSX whose sheet holds a header, one row, then ``count`` formatted empty rows, each in the XML (as
    a sheet formatted to its last row is saved), then one more filled row."""
    base = zipfile.ZipFile(io.BytesIO(xlsx({"Blad1": [["Naam", "Waarde"], ["a", 1]]})))
    rows = [('<row r="1"><c r="A1" t="inlineStr"><is><t>Naam</t></is></c><c r="B1" t="inlineStr"><is><t>Waarde</t>'
            '</is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2"><v>1</v></c></row>')]
    rows += [f'<row r="{n}" ht="15" customHeight="1"/>' for n in range(3, count + 3)]
    rows.append(f'<row r="{count + 3}"><c r="A{count + 3}" t="inlineStr"><is><t>eind</t></is></c></row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B' + str(count + 3) + '"/><sheetData>'
             + "".join(rows) + "</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in base.infolist():
            target.writestr(member.filename, sheet if member.filename == "xl/worksheets/sheet1.xml"
                            else base.read(member), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def encrypted_ooxml() -> bytes:
    """A password-protected XLSX as Office writes it: a Compound File (not a ZIP) holding the encrypted
    package and its encryption info (here random bytes: no library here encrypts)."""
    return compound_file({"EncryptionInfo": bytes(range(256)), "EncryptedPackage": bytes(8000)})


def old_xls() -> bytes:
    """An Excel 97-2003 workbook's container: a Compound File with a Workbook stream."""
    return compound_file({"Workbook": bytes(5000), "\x05SummaryInformation": bytes(200)})


def msg(subject: str, body: str, attachments: list[tuple[str, bytes]] = (), embedded: bool = False,  # type: ignore[assignment]
        html: str = "") -> bytes:
    """An Outlook message ([MS-OXMSG]): Unicode string properties, the submit time in the properties stream,
    attachments by value (and, with ``embedded``, one attached message stored as a storage)."""
    def text(value: str) -> bytes:
        return value.encode("utf-16-le")

    sent = int((datetime.datetime(2026, 3, 3, 9, 15, tzinfo=datetime.UTC)
                - datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)).total_seconds() * 10_000_000)
    properties = bytes(8) + struct.pack("<IIII", 0, len(attachments), 0, len(attachments) + embedded) + bytes(8)
    properties += struct.pack("<IIQ", 0x00390040, 6, sent)
    streams = {"__substg1.0_0037001F": text(subject), "__substg1.0_0C1A001F": text("Afdeling Vergunningen"),
               "__substg1.0_5D01001F": text("vergunningen@voorbeeld.nl"), "__substg1.0_0E04001F": text("Raad"),
               "__properties_version1.0": properties}
    if body:
        streams["__substg1.0_1000001F"] = text(body)
    if html:
        streams["__substg1.0_10130102"] = html.encode()
    for number, (name, data) in enumerate(attachments):
        root = f"__attach_version1.0_#{number:08X}/"
        streams |= {root + "__substg1.0_3707001F": text(name), root + "__substg1.0_37010102": data,
                    root + "__properties_version1.0": bytes(8)}
    if embedded:
        root = f"__attach_version1.0_#{len(attachments):08X}/"
        streams |= {root + "__substg1.0_3707001F": text("doorgestuurd.msg"),
                    root + "__substg1.0_3701000D/__substg1.0_0037001F": text("Binnen")}
    return compound_file(streams)


def pptx(slides: list[tuple[str, str, str]], image_only: bool = False) -> bytes:
    """A PPTX of (title, text, notes) slides, or of slides holding only a picture."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for title, body, notes in slides:
        if image_only:
            slide = deck.slides.add_slide(deck.slide_layouts[6])
            slide.shapes.add_picture(io.BytesIO(png()), Inches(1), Inches(1))
            continue
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def png() -> bytes:
    """A small picture."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def eml(subject: str, body: str, attachments: list[tuple[str, bytes]] = (), html: bool = False) -> bytes:  # type: ignore[assignment]
    """An e-mail with a plain-text (or only an HTML) body and attachments given as (name, bytes)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Afdeling Vergunningen <vergunningen@voorbeeld.nl>"
    message["To"] = "raad@voorbeeld.nl"
    message["Date"] = "Tue, 03 Mar 2026 10:15:00 +0100"
    if html:
        message.set_content(f"<html><body><h1>{subject}</h1><p>{body}</p></body></html>", subtype="html")
    else:
        message.set_content(body)
    for name, data in attachments:
        if name.endswith(".eml"):  # forwarded as an attachment: message/rfc822, the message itself inside
            inner = email.message_from_bytes(data, policy=email.policy.default)
            message.add_attachment(inner, filename=name)
        else:
            message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def mail_loop(depth: int) -> bytes:
    """An e-mail that carries an e-mail that carries an e-mail … ``depth`` deep."""
    data = eml("Bericht 0", "Het binnenste bericht.")
    for level in range(1, depth + 1):
        data = eml(f"Bericht {level}", f"Laag {level}.", [(f"laag{level - 1}.eml", data)])
    return data


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of page images with the lines of text drawn on them (200 dpi A4), no text layer: a scan."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 44)
    images = []
    for lines in pages:
        image = Image.new("L", (1654, 2339), 255)
        drawing = ImageDraw.Draw(image)
        for number, line in enumerate(lines):
            drawing.text((160, 200 + number * 90), line, fill=0, font=font)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def long_scan(pages: int) -> bytes:
    """A scan of ``pages`` pages: one scanned page repeated (pypdf shares its image, so the file stays small)."""
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(scanned_pdf([["Pagina van een lange scan"]]))).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
