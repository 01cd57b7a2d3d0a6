import { describe, expect, it } from 'vitest';
import { checkXml, XmlSyntaxError } from './xml';

describe('checkXml', () => {
  it.each([
    ['<a/>', 'a'],
    ['<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi -->\n<hl7:ADT_A01 xmlns:hl7="urn:hl7-org:v2"><MSH.1>|</MSH.1></hl7:ADT_A01>\n', 'hl7:ADT_A01'],
    ['\ufeff<root a="1" b=\'x &amp; y\'><![CDATA[ <not> & markup ]]><c/>text &#233; &#xE9; &lt;</root>', 'root'],
    ['<!DOCTYPE note [<!ENTITY e "x>"> <!ELEMENT note (#PCDATA)>]><note>&e;</note><?pi after?>', 'note'],
    ['<Patient xmlns="http://hl7.org/fhir"><id value="1"/><name><family value="Zöe"/></name></Patient>', 'Patient'],
  ])('accepts %s', (xml, root) => {
    expect(checkXml(xml).rootElement).toBe(root);
  });

  it.each([
    ['', 'no root element'],
    ['text', 'text outside the root element'],
    ['<a>', 'unclosed element <a>'],
    ['<a></b>', '</b> closes <a>'],
    ['<a><b></a></b>', '</a> closes <b>'],
    ['<a/><b/>', 'a second root element'],
    ['<a/>junk', 'text outside the root element'],
    ['<a x=1/>', 'must be quoted'],
    ['<a x="1" x="2"/>', 'duplicate attribute'],
    ['<a x="1"y="2"/>', 'expected whitespace'],
    ['<a x="<"/>', '"<" in the value'],
    ['<a>&bad entity;</a>', 'malformed entity reference'],
    ['<a>&amp</a>', 'malformed entity reference'],
    ['<a><!-- x -- y --></a>', '"--" inside a comment'],
    ['<a><!-- open</a>', 'unterminated comment'],
    ['<![CDATA[x]]><a/>', 'CDATA outside the root element'],
    ['<1a/>', 'expected a name'],
    ['</a>', 'without an open element'],
    ['<a', 'unterminated tag'],
  ])('rejects %s', (xml, message) => {
    expect(() => checkXml(xml)).toThrow(XmlSyntaxError);
    expect(() => checkXml(xml)).toThrow(message);
  });
});
