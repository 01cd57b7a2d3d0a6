import { describe, expect, it } from 'vitest';
import { checkDateTime, hl7Codec, parseMessage, validateMessage } from './index';

const MSH = 'MSH|^~\\&|A|B|C|D|20240101120000||';

function problems(text: string): string[] {
  return validateMessage(parseMessage(text)).map((p) => `${p.severity} ${p.code} ${p.path}`);
}

describe('validateMessage', () => {
  it('accepts a complete message', () => {
    expect(problems(`${MSH}ADT^A01|1|P|2.5\rEVN|A01\rPID|1||1\rPV1|1|I`)).toEqual([]);
  });

  it('flags missing MSH fields', () => {
    expect(problems('MSH|^~\\&|A')).toEqual([
      'warning hl7.required MSH-7',
      'error hl7.required MSH-9',
      'error hl7.required MSH-10',
      'error hl7.required MSH-11',
      'error hl7.required MSH-12',
    ]);
    expect(problems(`${MSH}ADT|1|P|2.5\rEVN|\rPID|1`)).toContain('warning hl7.required MSH-9.2');
  });

  it('checks the version and processing id', () => {
    for (const v of ['2.1', '2.2', '2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1', '2.8', '2.8.2', '2.5^ISO']) {
      expect(problems(`${MSH}ACK|1|P|${v}\rMSA|AA|1`), v).toEqual([]);
    }
    for (const v of ['3.0', '2.9', '25', 'abc', '2.5.1.1']) expect(problems(`${MSH}ACK|1|P|${v}\rMSA|AA|1`), v).toEqual(['error hl7.version MSH-12']);
    expect(problems(`${MSH}ACK|1|X|2.5\rMSA|AA|1`)).toEqual(['warning hl7.value MSH-11']);
  });

  it('checks ADT structure', () => {
    expect(problems(`${MSH}ADT^A01|1|P|2.5\rEVN|A01`)).toEqual(['error hl7.structure PID', 'error hl7.structure PV1']);
    expect(problems(`${MSH}ADT^A31|1|P|2.5\rEVN|A31\rPID|1`)).toEqual(['warning hl7.structure PV1']);
    expect(problems(`${MSH}ADT^A08|1|P|2.5\rPID|1\rPV1|1`)).toEqual(['warning hl7.structure EVN']);
  });

  it('checks ORU structure: OBR needed, OBX after OBR', () => {
    expect(problems(`${MSH}ORU^R01|1|P|2.5\rPID|1\rOBX|1\rOBR|1\rOBX|2`)).toEqual(['error hl7.structure OBX[1]']);
    expect(problems(`${MSH}ORU^R01|1|P|2.5\rPID|1\rOBX|1`)).toEqual(['error hl7.structure OBR', 'error hl7.structure OBX[1]']);
  });

  it('checks ORM, ACK, SIU, MDM', () => {
    expect(problems(`${MSH}ORM^O01|1|P|2.5\rPID|1\rOBR|1`)).toEqual(['error hl7.structure ORC']);
    expect(problems(`${MSH}ACK^A01|1|P|2.5`)).toEqual(['error hl7.structure MSA']);
    expect(problems(`${MSH}SIU^S12|1|P|2.5\rPID|1`)).toEqual(['error hl7.structure SCH']);
    expect(problems(`${MSH}MDM^T02|1|P|2.5\rEVN|1\rPID|1\rPV1|1`)).toEqual(['error hl7.structure TXA']);
  });

  it('flags a second MSH and bad segment names', () => {
    expect(problems(`${MSH}ACK|1|P|2.5\rMSA|AA|1\rMSH|^~\\&\rzz1|x`)).toEqual(['warning hl7.segment_name zz1', 'error hl7.structure MSH[2]']);
  });

  it('flags impossible dates as warnings', () => {
    expect(problems(`${MSH}ADT^A01|1|P|2.5\rEVN|A01|20240230\rPID|1||1||X||196203520\rPV1|1|I`)).toEqual(['warning hl7.date EVN-2', 'warning hl7.date PID-7']);
    const obx = (n: number, ts: string): string => `OBX|${n}${'|'.repeat(13)}${ts}`;
    expect(problems(`${MSH}ORU^R01|1|P|2.5\rPID|1\rOBR|1\r${obx(1, '2024010125')}\r${obx(2, '20240101')}`)).toEqual(['warning hl7.date OBX[1]-14']);
  });

  it('never throws', () => {
    const msg = parseMessage('MSH|^~\\&');
    expect(() => validateMessage(msg)).not.toThrow();
  });
});

describe('checkDateTime', () => {
  it('accepts HL7 dates and rejects impossible ones', () => {
    for (const ok of ['2024', '202402', '20240229', '2024022912', '202402291230', '20240229123059', '20240229123059.1234', '20150624084727.655-0500', '198908181126+0215', '20000229']) {
      expect(checkDateTime(ok), ok).toBeUndefined();
    }
    for (const bad of ['196203520', '20230229', '20241301', '20240100', '2024010124', '202401011260', '20240101120060', '2024-01-01', 'Aug 15, 1942', '20240101+2500', '19000229', '']) {
      expect(checkDateTime(bad), bad).toBeTypeOf('string');
    }
  });
});

describe('hl7Codec', () => {
  it('parses bytes and lists errors as text', () => {
    expect(hl7Codec.contentType).toBe('application/hl7-v2+er7');
    const msg = hl7Codec.parse(new TextEncoder().encode(`${MSH}ADT^A01|1|P|2.5\rEVN|A01`));
    expect(msg.controlId).toBe('1');
    expect(hl7Codec.validate(msg)).toEqual(['PID: ADT^A01 needs segment PID, which is missing', 'PV1: ADT^A01 needs segment PV1, which is missing']);
    expect(() => hl7Codec.parse(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'hl7.parse' }));
  });
});
