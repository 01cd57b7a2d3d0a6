import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMessage, validateMessage } from './index';

const corpusDir = fileURLToPath(new URL('../../../testdata/hl7/', import.meta.url));
const files = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.hl7'))
  .sort();

/** Known values, read off the files by hand (see SOURCES.md). `undefined` = must not exist. */
const KNOWN: Record<string, Record<string, string | undefined | string[]>> = {
  'hapi__ACK_A01__2.4__01.hl7': { 'MSH-9': 'ACK^A01', 'MSH-10': 'b', 'MSH-12': '2.4', 'MSA-1': 'AA', 'MSA-2': 'a', 'MSH-7': '', 'PID-3': undefined },
  'hapi__ADT_A01__2.4__01.hl7': {
    'MSH-9': 'ADT^A01^ADT_A01',
    'MSH-9.3': 'ADT_A01',
    'MSH-10': '22139243',
    'MSH-12': '2.4',
    'PID-3': '2216506^',
    'PID-3.1': '2216506',
    'PID-5.1': 'Duck',
    'PID-5.2': 'Donald',
    'PID-7': '19720227',
    'getAll:PID-11.7': ['H', 'M'],
  },
  'hapi__ADT_A03__2.5__01.hl7': {
    'MSH-9': 'ADT^A03',
    'MSH-10': '263206',
    'MSH-12': '2.5',
    'PID-3[4].5': 'TEAM',
    'getAll:PID-3.1': ['5520255', 'ZZZZZZ83M64Z148R', 'ZZZZZZ83M64Z148R', ''],
    'getAll:PID-3.5': ['PK', 'CF', 'SSN', 'TEAM'],
    'PV1-3.9': 'MED. 1 - ONCOLOGIA',
    'PV1-3.11': 'OSPEDALE MAGGIORE DI LODI&LODI',
    'PV1-3.11.1': 'OSPEDALE MAGGIORE DI LODI',
    'PV1-3.11.2': 'LODI',
    'PR1-3.2': 'Mastoplastica',
  },
  'hapi__ADT_A04__2.3__01.hl7': {
    'MSH-9': 'ADT^A04',
    'MSH-10': 'Q123456789T123456789X123456',
    'MSH-12': '2.3',
    'PID-5.1': 'BROS',
    'PID-5.2': 'MARIO',
    'PID-11.2': 'MARIO & LUIGI BROS PLACE',
    'NK1[2]-2.1': 'TOADSTOOL',
    'PV1-41': 'A',
    'PV1-39': 'MSH',
    'PV1-44': '20010101000000',
  },
  'hapi__ADT_A31__2.5__01.hl7': { 'MSH-9': 'ADT^A31', 'MSH-10': '2', 'MSH-12': '2.5', 'PID-3.1': 'ZZZZZZ83M64Z148R', 'PID-3.4': 'SSN', 'PID-3.7': '20070103', 'EVN-2': '200803051509' },
  'hapi__ORM_O01__2.2__01.hl7': {
    'MSH-3': 'DMCOE ',
    'MSH-9': 'ORM^O01',
    'MSH-10': '940503151537000',
    'MSH-11': 'D',
    'MSH-12': '2.2',
    'PID-3': 'N00804',
    'PID-5': 'RADIOLOGY^OUTPAT^ONE',
    'PV1-7.2': 'PAAT&JOHN&JOSEPH',
    'PV1-7.2.2': 'JOHN',
    'PV1-7.2.3': 'JOSEPH',
    'PV1-7.2.4': undefined,
    'OBR-4.2': 'KNEE-RIGHT AP LAT',
  },
  'hl7dotnetcore__ADT_A04__2.7__01.hl7': { 'MSH-9': 'ADT^A04', 'MSH-10': '123', 'MSH-12': '2.7', 'MSH-16': '', 'EVN-3': '', 'EVN-4': '""', 'EVN-5': undefined, 'PID-3': undefined },
  'hl7dotnetcore__DFT_P03__2.3__01.hl7': {
    'MSH-9': 'DFT^P03',
    'MSH-10': '20180326202737608457',
    'MSH-12': '2.3',
    'MSH-18': '8859/1',
    'PID-5.1': 'Supermann',
    'getAll:PID-13': ['123456', '123456^^CP'],
    'getAll:PV1-9.1': ['00097012345', '', '0009723456'],
    'PV1-9[3].2': 'Superarzt',
  },
  'hl7dotnetcore__ORU_R01__2.3__01.hl7': {
    'MSH-8': 'MEDAT_KC',
    'MSH-9': 'ORU^R01',
    'MSH-10': '6227281',
    'MSH-12': '2.3',
    'PID-5': 'Kuh^Klarabella',
    'NTE-3': '      Follikelphase:    2.4 -  12.6 mIU/ml',
    'NTE[8]-3': '      Postmenopause:  25.8 - 134.8 mIU/ml',
    'OBR[2]-4.1': 'FSH',
    'getAll:OBX-5': ['20.00', '30.00'],
  },
  'medplum__ACK__2.6.1__01.hl7': { 'MSH-9': 'ACK', 'MSH-10': '9B38584D', 'MSH-12': '2.6.1', 'MSA-2': '9B38584D', 'MSA-3': 'Everything was okay dokay!', 'MSA-4': '' },
  'mirth__ADT_A04__2.3__01.hl7': { 'MSH-9': 'ADT^A04', 'MSH-10': '934576120110613083617', 'MSH-12': '2.3', 'PID-3': '135769', 'PID-5.2': 'MICKEY', 'PID-13.4': 'theMainMouse@disney.com', 'PV1-7.2': 'Disney' },
  'mirth__ORU_R01__2.3__01.hl7': {
    'MSH-9': 'ORU^R01',
    'MSH-10': '59689',
    'MSH-12': '2.3',
    'PID-3.4': 'MIE&1.2.840.114398.1.100&ISO',
    'PID-3.4.2': '1.2.840.114398.1.100',
    'OBX[14]-3.2': 'Platelets',
    'OBX[15]-5': undefined,
  },
  'mirth__ORU_R01__2.4__01.hl7': { 'MSH-9': 'ORU^R01', 'MSH-10': '12345678', 'MSH-12': '2.4', 'PID-5.1': 'Hanso', 'PID-7': 'Aug 15, 1942', 'OBX[17]-3.2': 'ALK PHOS', 'OBX[6]-3.4': '2160-0' },
  'mirth__SIU_S12__2.3__01.hl7': { 'MSH-9': 'SIU^S12', 'MSH-10': '24916560', 'MSH-12': '2.3', 'PID-5': 'BEEBLEBROX^ZAPHOD', 'SCH-25': 'Scheduled', 'AIL-3.1': 'OFFICE', 'AIG-3.2': 'Adams, Douglas' },
  'msfhirconv__ADT_A01__2.8__01.hl7': {
    'MSH-9': 'ADT^A01^ADT_A01',
    'MSH-10': 'MSG00001',
    'MSH-12': '2.8',
    'PID-3.1': 'PATID1234',
    'PID-3.4.2': '2.16.1',
    'PID-3[2].1': '123456789',
    'PID-5.1': 'EVERYMAN&&&&Aniston',
    'PID-5.1.1': 'EVERYMAN',
    'PID-5.1.5': 'Aniston',
    'PID-5[2].1.1': 'Josh',
    'PV1-14': 'NHS Provider-General (inc.A&E-this Hosp)',
  },
  'msfhirconv__ADT_A04__2.8__01.hl7': { 'MSH-9': 'ADT^A04^ADT_A04', 'MSH-10': 'MSG00001', 'MSH-12': '2.8', 'PID-3[2].1': '123456789', 'PV1-14': 'NHS Provider-General (inc.A&E-this Hosp)' },
  'msfhirconv__ADT_A31__2.8__01.hl7': { 'MSH-9': 'ADT^A31^ADT_A31', 'MSH-10': 'MSG00001', 'MSH-12': '2.8', 'SFT-3': 'Rhapsody', 'PID-5[2].1.5': 'Bing' },
  'msfhirconv__DFT_P03__2.8__01.hl7': { 'MSH-9': 'DFT^P03^DFT_P03', 'MSH-10': 'MSG00001', 'MSH-12': '2.8', 'PV1-14': 'NHS Provider-General (inc.A&E-this Hosp)', 'FT1[2]-1': '2' },
  'msfhirconv__MDM_T02__2.3__01.hl7': { 'MSH-9': 'MDM^T02^MDM_T02', 'MSH-10': '112', 'MSH-11': 'T', 'MSH-12': '2.3', 'MSH-18': 'ASCII', 'OBX[8]-5': 'Stopsign', 'OBX[29]-1': '29' },
  'msfhirconv__ORM_O01__2.6__01.hl7': { 'MSH-9': 'ORM^O01^ORM_O01', 'MSH-10': 'MSG00018', 'MSH-12': '2.6', 'MSH-3': 'ORDApp', 'ORC-1': 'NW', 'BLG-2': 'CR' },
  'msfhirconv__ORU_R01__2.5__01.hl7': { 'MSH-3': 'SomeSystem', 'MSH-9': 'ORU^R01', 'MSH-10': '182', 'MSH-12': '2.5', 'PID-3.1': '10006579', 'PID-5': 'DUCK^DONALD^D', 'OBR[2]-4.2': 'Differential WBC Count, buffy coat' },
  'msfhirconv__SIU_S12__2.8__02.hl7': { 'MSH-9': 'SIU^S12^SIU_S12', 'MSH-10': 'MSG00001', 'MSH-12': '2.8', 'getAll:RGS-1': ['1', '2', '3'], 'AIL[2]-3': '11&X-Ray Room&L', 'AIL[2]-3.1.2': 'X-Ray Room', 'AIL[2]-3.2': undefined, 'AIL[4]-3.1.1': '55' },
  'msfhirconv__VXU_V04__2.5.1__01.hl7': {
    'MSH-7': '20150624084727.655-0500',
    'MSH-9': 'VXU^V04^VXU_V04',
    'MSH-10': 'NIST-IZ-AD-2.1_Send_V04_Z22',
    'MSH-12': '2.5.1',
    'PID-5': 'Wong^Elise^^^^^L',
    'PID-13[2].4': 'Elise.Wong@isp.com',
    'PID-13[2].2': 'NET',
    'getAll:RXA-5.2': ['TENIVAC', 'influenza, unspecified formulation', 'influenza, unspecified formulation'],
  },
  'nhapi__ORU_R01__2.7__01.hl7': {
    'MSH-9': 'ORU^R01',
    'MSH-10': 'EBzH1711114101206',
    'MSH-12': '2.7',
    'OBX-5': 'This\nis\nA Test',
    'OBX-5[3]': 'SomeMoreText',
    'getAll:OBX[2]-5': ['This\nis\nA Test', 'MoreText', 'SomeMoreText'],
  },
  'nodehl7client__ORM_O01__2.3__01.hl7': { 'MSH-9': 'ORM^O01', 'MSH-10': 'MZ54932', 'MSH-12': '2.3', 'getAll:PID-3.1': ['CHART', 'MEDICAL'], 'getAll:PID-3.4': ['CID', 'MRN'], 'PID-13.6': '513' },
  'pyhl7__ADT_A01__2.3__01.hl7': {
    'MSH-9': 'ADT^A01',
    'MSH-10': 'Q150084616T145947960',
    'MSH-12': '2.3',
    'getAll:PID-4.5': ['REFE', 'DONOR '], 'PID-4[3].4': 'MSQ_MRN',
    'PV1-9': '""',
    'IN1[3]-4': 'SELF-PAY',
    'IN2[2]-2': '062420044',
    'getAll:IN1-1': ['0001', '0002', '0003'],
  },
  'pyhl7__ORU_R01__2.4__01.hl7': { 'MSH-9': 'ORU^R01', 'MSH-10': 'CNTRL-3456', 'MSH-12': '2.4', 'PID-5': 'EVERYWOMAN^EVE^E^^^^L', 'PID-7': '196203520', 'OBX[2]-5': '^182', 'OBX[2]-5.2': '182' },
};

/** Known problems: the corpus holds a few deliberately odd messages. Everything else has no error. */
const EXPECTED_ERRORS: Record<string, string[]> = {
  'hl7dotnetcore__ADT_A04__2.7__01.hl7': ['PID', 'PV1'],
  'nodehl7client__ORM_O01__2.3__01.hl7': ['ORC'],
};

const BOM = [0xef, 0xbb, 0xbf];

describe('corpus', () => {
  it('covers every corpus file with known values', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(Object.keys(KNOWN).sort()).toEqual(files);
  });

  describe.each(files)('%s', (file) => {
    const bytes = new Uint8Array(readFileSync(corpusDir + file));
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const hasBom = bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
    const withoutBom = hasBom ? text.slice(1) : text;

    it('round-trips byte-exact, from text and from bytes', () => {
      const fromText = parseMessage(text);
      expect(fromText.hasBom).toBe(hasBom);
      expect(fromText.toString()).toBe(withoutBom);
      const fromBytes = parseMessage(bytes);
      expect(fromBytes.hasBom).toBe(hasBom);
      expect(fromBytes.toString()).toBe(withoutBom);
      expect(Array.from(fromBytes.toBytes())).toEqual(Array.from(bytes));
      expect(Array.from(fromText.toBytes())).toEqual(Array.from(bytes));
      const noBom = fromBytes.toBytes({ bom: false });
      expect(Array.from(noBom)).toEqual(Array.from(hasBom ? bytes.subarray(3) : bytes));
    });

    it('still round-trips after reading everything', () => {
      const msg = parseMessage(bytes);
      for (const seg of msg.segments()) for (let f = 1; f <= seg.fieldCount; f++) seg.components(f);
      expect(msg.toString()).toBe(withoutBom);
      expect(msg.modified).toBe(false);
    });

    it('round-trips after a no-op set, changing only the addressed bytes', () => {
      const msg = parseMessage(bytes);
      msg.set('MSH-10', msg.get('MSH-10') ?? '');
      expect(msg.toString()).toBe(withoutBom);
      msg.set('MSH-10', 'CHANGED');
      const eol = withoutBom.search(/[\r\n]/);
      const mshEnd = eol === -1 ? withoutBom.length : eol;
      const fields = withoutBom.slice(0, mshEnd).split('|');
      fields[9] = 'CHANGED';
      expect(msg.toString()).toBe(fields.join('|') + withoutBom.slice(mshEnd));
    });

    it('reads the known values', () => {
      const msg = parseMessage(bytes);
      for (const [key, want] of Object.entries(KNOWN[file])) {
        if (key.startsWith('getAll:')) expect(msg.getAll(key.slice(7)), key).toEqual(want);
        else expect(msg.get(key), key).toBe(want);
      }
      expect(msg.controlId).toBe(KNOWN[file]['MSH-10']);
      expect(msg.version).toBe(KNOWN[file]['MSH-12']);
      const type = String(KNOWN[file]['MSH-9']).split('^').slice(0, 2).join('^');
      expect(msg.messageType).toBe(type);
      expect(msg.get('MSH-1')).toBe('|');
      expect(msg.get('MSH-2')).toBe('^~\\&');
    });

    it('validates with no errors unless known to be odd', () => {
      const msg = parseMessage(bytes);
      const errors = validateMessage(msg).filter((p) => p.severity === 'error');
      expect(errors.map((p) => p.path)).toEqual(EXPECTED_ERRORS[file] ?? []);
    });
  });

  it('flags the impossible PID-7 of the pyhl7 ORU as a warning', () => {
    const msg = parseMessage(readFileSync(corpusDir + 'pyhl7__ORU_R01__2.4__01.hl7', 'utf8'));
    const p = validateMessage(msg).find((x) => x.path === 'PID-7');
    expect(p).toMatchObject({ code: 'hl7.date', severity: 'warning' });
  });
});
