"""Validates an XML export against tally's schema with xmlschema, then reads it back
with the standard library and prints it as JSON: the root's attributes and, for each
child record, its attributes and the text of its elements.

Usage: python xml_read.py SCHEMA.xsd DOCUMENT.xml
Exits 1 with the validation error when the document is not valid.
"""

import json
import sys
import xml.etree.ElementTree as ET

import xmlschema

NS = "{urn:tally:export:1}"


def local(tag):
    return tag[len(NS):] if tag.startswith(NS) else tag


def record(element):
    return {
        "tag": local(element.tag),
        "attrs": dict(element.attrib),
        "fields": {local(child.tag): (child.text or "") for child in element},
    }


def main():
    schema = xmlschema.XMLSchema(sys.argv[1])
    try:
        schema.validate(sys.argv[2])
    except xmlschema.XMLSchemaValidationError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
    root = ET.parse(sys.argv[2]).getroot()
    out = {"root": local(root.tag), "attrs": dict(root.attrib), "children": {}}
    for child in root:
        name = local(child.tag)
        if name in ("summary", "event"):
            out["children"].setdefault(name, []).append(record(child))
        else:
            out["children"][name] = [record(row) for row in child]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
