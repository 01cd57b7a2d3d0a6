/**
 * Just enough HL7 v2 for the message viewer: split a message into segments, fields,
 * repetitions and components (1-based paths as in the spec: PID-5.1), and name the fields of
 * the common segments. Display only; the engine's parser lives in libs/hl7.
 * @see https://www.hl7.org/implement/standards/product_brief.cfm?product_id=185 (HL7 v2.5.1)
 */

const F = (names: string[]): Record<number, string> => Object.fromEntries(names.map((n, i) => [i + 1, n]));

export const FIELD_NAMES: Record<string, Record<number, string>> = {
  MSH: F([
    'Field Separator',
    'Encoding Characters',
    'Sending Application',
    'Sending Facility',
    'Receiving Application',
    'Receiving Facility',
    'Date/Time of Message',
    'Security',
    'Message Type',
    'Message Control ID',
    'Processing ID',
    'Version ID',
    'Sequence Number',
    'Continuation Pointer',
    'Accept Acknowledgment Type',
    'Application Acknowledgment Type',
    'Country Code',
    'Character Set',
    'Principal Language of Message',
    'Alternate Character Set Handling Scheme',
    'Message Profile Identifier',
  ]),
  EVN: F(['Event Type Code', 'Recorded Date/Time', 'Date/Time Planned Event', 'Event Reason Code', 'Operator ID', 'Event Occurred', 'Event Facility']),
  PID: F([
    'Set ID - PID',
    'Patient ID',
    'Patient Identifier List',
    'Alternate Patient ID',
    'Patient Name',
    "Mother's Maiden Name",
    'Date/Time of Birth',
    'Administrative Sex',
    'Patient Alias',
    'Race',
    'Patient Address',
    'County Code',
    'Phone Number - Home',
    'Phone Number - Business',
    'Primary Language',
    'Marital Status',
    'Religion',
    'Patient Account Number',
    'SSN Number - Patient',
    "Driver's License Number",
    "Mother's Identifier",
    'Ethnic Group',
    'Birth Place',
    'Multiple Birth Indicator',
    'Birth Order',
    'Citizenship',
    'Veterans Military Status',
    'Nationality',
    'Patient Death Date and Time',
    'Patient Death Indicator',
    'Identity Unknown Indicator',
    'Identity Reliability Code',
    'Last Update Date/Time',
    'Last Update Facility',
    'Species Code',
    'Breed Code',
    'Strain',
    'Production Class Code',
    'Tribal Citizenship',
  ]),
  PV1: F([
    'Set ID - PV1',
    'Patient Class',
    'Assigned Patient Location',
    'Admission Type',
    'Preadmit Number',
    'Prior Patient Location',
    'Attending Doctor',
    'Referring Doctor',
    'Consulting Doctor',
    'Hospital Service',
    'Temporary Location',
    'Preadmit Test Indicator',
    'Re-admission Indicator',
    'Admit Source',
    'Ambulatory Status',
    'VIP Indicator',
    'Admitting Doctor',
    'Patient Type',
    'Visit Number',
    'Financial Class',
    'Charge Price Indicator',
    'Courtesy Code',
    'Credit Rating',
    'Contract Code',
    'Contract Effective Date',
    'Contract Amount',
    'Contract Period',
    'Interest Code',
    'Transfer to Bad Debt Code',
    'Transfer to Bad Debt Date',
    'Bad Debt Agency Code',
    'Bad Debt Transfer Amount',
    'Bad Debt Recovery Amount',
    'Delete Account Indicator',
    'Delete Account Date',
    'Discharge Disposition',
    'Discharged to Location',
    'Diet Type',
    'Servicing Facility',
    'Bed Status',
    'Account Status',
    'Pending Location',
    'Prior Temporary Location',
    'Admit Date/Time',
    'Discharge Date/Time',
    'Current Patient Balance',
    'Total Charges',
    'Total Adjustments',
    'Total Payments',
    'Alternate Visit ID',
    'Visit Indicator',
    'Other Healthcare Provider',
  ]),
  ORC: F([
    'Order Control',
    'Placer Order Number',
    'Filler Order Number',
    'Placer Group Number',
    'Order Status',
    'Response Flag',
    'Quantity/Timing',
    'Parent',
    'Date/Time of Transaction',
    'Entered By',
    'Verified By',
    'Ordering Provider',
    "Enterer's Location",
    'Call Back Phone Number',
    'Order Effective Date/Time',
    'Order Control Code Reason',
    'Entering Organization',
    'Entering Device',
    'Action By',
    'Advanced Beneficiary Notice Code',
    'Ordering Facility Name',
    'Ordering Facility Address',
    'Ordering Facility Phone Number',
    'Ordering Provider Address',
    'Order Status Modifier',
  ]),
  OBR: F([
    'Set ID - OBR',
    'Placer Order Number',
    'Filler Order Number',
    'Universal Service Identifier',
    'Priority',
    'Requested Date/Time',
    'Observation Date/Time',
    'Observation End Date/Time',
    'Collection Volume',
    'Collector Identifier',
    'Specimen Action Code',
    'Danger Code',
    'Relevant Clinical Information',
    'Specimen Received Date/Time',
    'Specimen Source',
    'Ordering Provider',
    'Order Callback Phone Number',
    'Placer Field 1',
    'Placer Field 2',
    'Filler Field 1',
    'Filler Field 2',
    'Results Rpt/Status Chng - Date/Time',
    'Charge to Practice',
    'Diagnostic Serv Sect ID',
    'Result Status',
    'Parent Result',
    'Quantity/Timing',
    'Result Copies To',
    'Parent',
    'Transportation Mode',
    'Reason for Study',
    'Principal Result Interpreter',
    'Assistant Result Interpreter',
    'Technician',
    'Transcriptionist',
    'Scheduled Date/Time',
    'Number of Sample Containers',
    'Transport Logistics of Collected Sample',
    "Collector's Comment",
    'Transport Arrangement Responsibility',
    'Transport Arranged',
    'Escort Required',
    'Planned Patient Transport Comment',
  ]),
  OBX: F([
    'Set ID - OBX',
    'Value Type',
    'Observation Identifier',
    'Observation Sub-ID',
    'Observation Value',
    'Units',
    'References Range',
    'Abnormal Flags',
    'Probability',
    'Nature of Abnormal Test',
    'Observation Result Status',
    'Effective Date of Reference Range',
    'User Defined Access Checks',
    'Date/Time of the Observation',
    "Producer's ID",
    'Responsible Observer',
    'Observation Method',
    'Equipment Instance Identifier',
    'Date/Time of the Analysis',
  ]),
  MSA: F(['Acknowledgment Code', 'Message Control ID', 'Text Message', 'Expected Sequence Number', 'Delayed Acknowledgment Type', 'Error Condition']),
  NK1: F(['Set ID - NK1', 'Name', 'Relationship', 'Address', 'Phone Number', 'Business Phone Number', 'Contact Role']),
};

const XPN = ['Family Name', 'Given Name', 'Second and Further Given Names', 'Suffix', 'Prefix', 'Degree'];
const CX = ['ID Number', 'Check Digit', 'Check Digit Scheme', 'Assigning Authority', 'Identifier Type Code', 'Assigning Facility'];
const XAD = ['Street Address', 'Other Designation', 'City', 'State or Province', 'Zip or Postal Code', 'Country', 'Address Type'];
const CE = ['Identifier', 'Text', 'Name of Coding System', 'Alternate Identifier', 'Alternate Text', 'Name of Alternate Coding System'];
const XCN = ['ID Number', 'Family Name', 'Given Name', 'Second and Further Given Names', 'Suffix', 'Prefix', 'Degree'];
const HD = ['Namespace ID', 'Universal ID', 'Universal ID Type'];
const PL = ['Point of Care', 'Room', 'Bed', 'Facility', 'Location Status', 'Person Location Type', 'Building', 'Floor'];

/** Component names of the usual composite fields. */
export const COMPONENT_NAMES: Record<string, string[]> = {
  'MSH-3': HD,
  'MSH-4': HD,
  'MSH-5': HD,
  'MSH-6': HD,
  'MSH-9': ['Message Code', 'Trigger Event', 'Message Structure'],
  'MSH-11': ['Processing ID', 'Processing Mode'],
  'PID-3': CX,
  'PID-2': CX,
  'PID-4': CX,
  'PID-5': XPN,
  'PID-6': XPN,
  'PID-9': XPN,
  'PID-11': XAD,
  'PID-10': CE,
  'PID-8': ['Administrative Sex'],
  'PV1-3': PL,
  'PV1-6': PL,
  'PV1-7': XCN,
  'PV1-8': XCN,
  'PV1-9': XCN,
  'PV1-17': XCN,
  'PV1-19': CX,
  'OBR-4': CE,
  'OBR-16': XCN,
  'OBX-3': CE,
  'OBX-6': CE,
  'ORC-12': XCN,
  'NK1-2': XPN,
  'NK1-3': CE,
  'NK1-4': XAD,
};

export interface Hl7Component {
  index: number;
  path: string;
  value: string;
  name?: string;
}

export interface Hl7Field {
  /** Field number (1-based; MSH-1 is the field separator). */
  index: number;
  path: string;
  name?: string;
  value: string;
  /** Repetitions (split on ~), each split into components (on ^). */
  repetitions: Hl7Component[][];
}

export interface Hl7Segment {
  name: string;
  /** Occurrence of this segment name in the message (1-based). */
  occurrence: number;
  line: string;
  fields: Hl7Field[];
}

export interface Hl7Message {
  fieldSep: string;
  componentSep: string;
  repetitionSep: string;
  escapeChar: string;
  subcomponentSep: string;
  segments: Hl7Segment[];
}

export function looksLikeHl7(raw: string | null | undefined): boolean {
  return !!raw && /^(MSH|FHS|BHS)./.test(raw.trimStart());
}

export function fieldName(segment: string, index: number): string | undefined {
  return FIELD_NAMES[segment]?.[index];
}

export function parseHl7(raw: string): Hl7Message {
  const text = raw.replace(/^\s+/, '');
  const fieldSep = text.startsWith('MSH') || text.startsWith('FHS') || text.startsWith('BHS') ? text.charAt(3) || '|' : '|';
  const enc = text.slice(4, 8);
  const componentSep = enc.charAt(0) || '^';
  const repetitionSep = enc.charAt(1) || '~';
  const escapeChar = enc.charAt(2) || '\\';
  const subcomponentSep = enc.charAt(3) || '&';
  const counts = new Map<string, number>();
  const segments: Hl7Segment[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') continue;
    const parts = line.split(fieldSep);
    const name = parts[0] ?? '';
    const occurrence = (counts.get(name) ?? 0) + 1;
    counts.set(name, occurrence);
    const isHeader = name === 'MSH' || name === 'FHS' || name === 'BHS';
    const fields: Hl7Field[] = [];
    const push = (index: number, value: string, split: boolean) => {
      const path = `${name}-${index}`;
      const compNames = COMPONENT_NAMES[path];
      const reps = split ? value.split(repetitionSep) : [value];
      fields.push({
        index,
        path,
        name: fieldName(name, index),
        value,
        repetitions: reps.map((rep) =>
          (split ? rep.split(componentSep) : [rep]).map((c, ci) => ({ index: ci + 1, path: `${path}.${ci + 1}`, value: c, name: compNames?.[ci] })),
        ),
      });
    };
    if (isHeader) {
      push(1, fieldSep, false);
      push(2, parts[1] ?? '', false);
      for (let i = 2; i < parts.length; i++) push(i + 1, parts[i] ?? '', true);
    } else {
      for (let i = 1; i < parts.length; i++) push(i, parts[i] ?? '', true);
    }
    segments.push({ name, occurrence, line, fields });
  }
  return { fieldSep, componentSep, repetitionSep, escapeChar, subcomponentSep, segments };
}

/** "PID-5.1 Patient Name › Family Name" for the hover read-out. */
export function describePath(segment: string, field: number, component?: number): string {
  const base = `${segment}-${field}`;
  const fname = fieldName(segment, field);
  if (component === undefined) return fname ? `${base} ${fname}` : base;
  const cname = COMPONENT_NAMES[base]?.[component - 1];
  return `${base}.${component}${fname ? ` ${fname}` : ''}${cname ? ` › ${cname}` : ''}`;
}
