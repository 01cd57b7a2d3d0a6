import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readHl7Header } from './hl7-header';

const corpus = new URL('../../../testdata/hl7/', import.meta.url);
const files = readdirSync(corpus).filter((f) => f.endsWith('.hl7'));

describe('readHl7Header on the corpus', () => {
  it('has files to read', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  // file names are <source>__<MSH-9.1_MSH-9.2>__<MSH-12>__NN.hl7
  it.each(files)('%s', (file) => {
    const [, type, version] = file.split('__');
    const bytes = new Uint8Array(readFileSync(new URL(file, corpus)));
    const info = readHl7Header(bytes);
    expect(info?.segment).toBe('MSH');
    expect(info?.fieldSeparator).toBe('|');
    expect(info?.messageType?.replace('^', '_')).toBe(type);
    expect(info?.version).toBe(version);
    expect(info?.controlId).toBeTruthy();
    // the same from text
    const text = new TextDecoder().decode(bytes);
    expect(readHl7Header(text)).toEqual(info);
  });
});

describe('readHl7Header', () => {
  it('reads the fields and builds the structure name', () => {
    const info = readHl7Header(
      'MSH|^~\\&|LAB^1.2.3^ISO|HOSP|EHR|HOSP|20240101120000||ADT^A04^ADT_A01|MSG001|P^T|2.5.1^^||||||UNICODE UTF-8\rPID|1',
    );
    expect(info).toEqual({
      segment: 'MSH',
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      sendingApplication: 'LAB',
      sendingFacility: 'HOSP',
      receivingApplication: 'EHR',
      receivingFacility: 'HOSP',
      messageType: 'ADT^A04',
      structure: 'ADT_A01',
      controlId: 'MSG001',
      processingId: 'P',
      version: '2.5.1',
      encoding: 'utf-8',
    });
  });

  it('handles other separators, BOM, MLLP start byte, blank lines and LF', () => {
    const text = '\ufeff\u000b\n\nMSH#*~\\&#A#B#C#D#x##ORU*R01#42#P#2.3\nOBR#1';
    const info = readHl7Header(text);
    expect(info).toMatchObject({ fieldSeparator: '#', messageType: 'ORU^R01', structure: 'ORU_R01', controlId: '42', version: '2.3' });
    expect(readHl7Header(new TextEncoder().encode(text))).toEqual(info);
  });

  it('leaves absent fields absent', () => {
    expect(readHl7Header('MSH|^~\\&|||||||ACK')).toEqual({
      segment: 'MSH',
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      messageType: 'ACK',
      structure: 'ACK',
    });
  });

  it('maps MSH-18 charsets and reads latin1 bytes', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('MSH|^~\\&|Caf'), 0xe9, ...new TextEncoder().encode('||||||ADT^A01|1|P|2.4||||||8859/1')]);
    const info = readHl7Header(bytes);
    expect(info?.sendingApplication).toBe('Café');
    expect(info?.encoding).toBe('latin1');
    expect(readHl7Header('MSH|^~\\&|||||||A^B|1|P|2.4||||||ASCII~UNICODE UTF-8')?.encoding).toBe('ascii');
    expect(readHl7Header('MSH|^~\\&|||||||A^B|1|P|2.4||||||EBCDIC')?.encoding).toBeUndefined();
  });

  it('reads 8859/1 bytes as Latin-1 even when they happen to be valid UTF-8', () => {
    // C3 BC is "Ã¼" in ISO-8859-1 (and "ü" in UTF-8): MSH-18 decides, as @hie/hl7 does.
    const bytes = Uint8Array.from('MSH|^~\\&|\u00c3\u00bc||||||ADT^A01|1|P|2.4||||||8859/1', (c) => c.charCodeAt(0));
    expect(readHl7Header(bytes)?.sendingApplication).toBe('\u00c3\u00bc');
  });

  it('reads UTF-8 bytes', () => {
    const info = readHl7Header(new TextEncoder().encode('MSH|^~\\&|Zürich||||||ADT^A01|1|P|2.5'));
    expect(info?.sendingApplication).toBe('Zürich');
  });

  it('reads batches: control id from FHS/BHS, version from the first MSH', () => {
    const batch = 'FHS|^~\\&|A|B|||20240101||||F001\rBHS|^~\\&|A|B|||||||B001\rMSH|^~\\&|A|B|C|D|x||ADT^A01|M1|P|2.3\rPID|1\rBTS|1\rFTS|1';
    for (const raw of [batch, new TextEncoder().encode(batch)]) {
      expect(readHl7Header(raw)).toMatchObject({ segment: 'FHS', structure: 'HL7_BATCH', controlId: 'F001', version: '2.3' });
    }
    const info = readHl7Header(batch.slice(batch.indexOf('BHS')));
    expect(info).toMatchObject({ segment: 'BHS', controlId: 'B001', version: '2.3' });
    expect(info?.messageType).toBeUndefined();
  });

  it('returns undefined for anything else', () => {
    for (const raw of ['', 'MSH', 'PID|1|2', '{"resourceType":"Patient"}', new Uint8Array([0, 1, 2, 3, 4])]) {
      expect(readHl7Header(raw)).toBeUndefined();
    }
  });
});
