import type { Hl7Message, Hl7Segment } from './message';

/** One thing wrong with a message, as found by {@link validateMessage}. */
export interface Hl7Problem {
  /** Where: an HL7 path (`MSH-9`, `PID-7`, `OBX[2]`) or a segment name. */
  path: string;
  /**
   * Stable code: `hl7.required` (missing MSH field), `hl7.version` (unknown MSH-12),
   * `hl7.structure` (missing or misplaced segment), `hl7.date` (impossible date/time),
   * `hl7.segment_name` (not a valid segment id), `hl7.value` (an unexpected code value),
   * `hl7.batch` / `hl7.parse` (from {@link parseBatch}).
   */
  code: string;
  /** Human-readable explanation. */
  message: string;
  /** `error`: the message breaks the standard in a way receivers reject; `warning`: suspicious but commonly accepted. */
  severity: 'error' | 'warning';
}

/** Date/time fields checked for impossible values (component 1 of the first repetition). */
const DATE_FIELDS: readonly string[] = [
  'MSH-7',
  'EVN-2',
  'EVN-3',
  'EVN-6',
  'PID-7',
  'PID-29',
  'PV1-44',
  'PV1-45',
  'ORC-9',
  'OBR-6',
  'OBR-7',
  'OBR-8',
  'OBR-14',
  'OBR-22',
  'OBX-14',
  'RXA-3',
  'RXA-4',
  'TXA-4',
  'SPM-17',
  'SPM-18',
];

/** Per message code: segments that must be there (`error`) or should be (`warning`). */
interface StructureRule {
  required: readonly string[];
  recommended: readonly string[];
}

const ADT_VISIT_TRIGGERS = new Set(['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A11', 'A12', 'A13']);

function structureRule(code: string, trigger: string): StructureRule | undefined {
  switch (code) {
    case 'ADT':
      if (trigger === 'A20') return { required: ['EVN'], recommended: [] };
      return ADT_VISIT_TRIGGERS.has(trigger) ? { required: ['PID', 'PV1'], recommended: ['EVN'] } : { required: ['PID'], recommended: ['EVN', 'PV1'] };
    case 'ORU':
      return { required: ['OBR'], recommended: ['PID'] };
    case 'ORM':
      return { required: ['ORC'], recommended: ['PID'] };
    case 'OML':
      return { required: ['ORC'], recommended: ['PID'] };
    case 'ACK':
      return { required: ['MSA'], recommended: [] };
    case 'SIU':
      return { required: ['SCH'], recommended: [] };
    case 'MDM':
      return { required: ['EVN', 'PID', 'PV1', 'TXA'], recommended: [] };
    case 'VXU':
      return { required: ['PID'], recommended: ['RXA'] };
    case 'DFT':
      return { required: ['EVN', 'PID'], recommended: ['FT1'] };
    default:
      return undefined;
  }
}

const VERSION = /^2\.[1-8](\.[0-9]{1,2})?$/;
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;

/**
 * Checks a date/time value (HL7 DT/DTM/TS first component: `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]`).
 * @returns a reason when it is not a possible date/time, `undefined` when it is fine
 */
export function checkDateTime(value: string): string | undefined {
  const m = DTM.exec(value);
  if (m === null) return 'is not an HL7 date/time (YYYY[MM[DD[HHMM[SS[.S]]]]][+/-ZZZZ])';
  const [, y, mo, d, h, mi, s, , zh, zm] = m;
  if (mo !== undefined && (+mo < 1 || +mo > 12)) return `has month ${mo}`;
  if (d !== undefined) {
    const days = new Date(Date.UTC(+y, +mo, 0)).getUTCDate();
    if (+d < 1 || +d > days) return `has day ${d}, month ${mo} of ${y} has ${days} days`;
  }
  if (h !== undefined && +h > 23) return `has hour ${h}`;
  if (mi !== undefined && +mi > 59) return `has minute ${mi}`;
  if (s !== undefined && +s > 59) return `has second ${s}`;
  if (zh !== undefined && (+zh > 14 || +zm > 59)) return `has time zone offset ${zh}${zm}`;
  return undefined;
}

/**
 * Checks a message against the rules a receiver usually enforces. Never throws.
 *
 * - MSH: MSH-9 (message type), MSH-10 (control id), MSH-11 (processing id), MSH-12 (version)
 *   present (errors); MSH-7 (date/time) present and the trigger MSH-9.2 present (warnings);
 *   MSH-12 a known version 2.1 – 2.8.x (error); MSH-11 one of P, D, T (warning).
 * - Structure, by message code: ADT needs PID, and PV1 for A01–A08/A11–A13 (EVN recommended);
 *   ORU needs OBR, with every OBX after an OBR; ORM/OML need ORC; ACK needs MSA; SIU needs SCH;
 *   MDM needs EVN, PID, PV1, TXA; VXU needs PID; DFT needs EVN and PID. A second MSH is an error.
 * - Dates: impossible or malformed values in common date/time fields (`PID-7`, `MSH-7`,
 *   `OBR-7`, …) are warnings.
 * - Segment names that are not three upper-case letters/digits are warnings.
 */
export function validateMessage(msg: Hl7Message): Hl7Problem[] {
  const problems: Hl7Problem[] = [];
  try {
    check(msg, problems);
  } catch (e) {
    problems.push({ path: 'MSH', code: 'hl7.validate', message: `Validation stopped early: ${e instanceof Error ? e.message : String(e)}`, severity: 'error' });
  }
  return problems;
}

function check(msg: Hl7Message, problems: Hl7Problem[]): void {
  const add = (path: string, code: string, message: string, severity: Hl7Problem['severity']): void => {
    problems.push({ path, code, message, severity });
  };
  const segs = msg.segments();
  const msh = segs[0];
  const value = (seg: Hl7Segment, field: number, component?: number): string => (seg.get(field, component) ?? '').trim();

  const required: [number, string, Hl7Problem['severity']][] = [
    [7, 'date/time of message', 'warning'],
    [9, 'message type', 'error'],
    [10, 'message control id', 'error'],
    [11, 'processing id', 'error'],
    [12, 'version id', 'error'],
  ];
  for (const [field, what, severity] of required) {
    if (value(msh, field, 1) === '') add(`MSH-${field}`, 'hl7.required', `MSH-${field} (${what}) is missing`, severity);
  }
  const code = value(msh, 9, 1);
  const trigger = value(msh, 9, 2);
  if (code !== '' && code !== 'ACK' && trigger === '') add('MSH-9.2', 'hl7.required', 'MSH-9.2 (trigger event) is missing', 'warning');
  const version = value(msh, 12, 1);
  if (version !== '' && !VERSION.test(version)) add('MSH-12', 'hl7.version', `MSH-12 version '${version}' is not a known HL7 v2 version (2.1 to 2.8.x)`, 'error');
  const processing = value(msh, 11, 1);
  if (processing !== '' && !['P', 'D', 'T'].includes(processing)) add('MSH-11', 'hl7.value', `MSH-11 processing id '${processing}' is not P, D or T`, 'warning');

  const counts = new Map<string, number>();
  for (const seg of segs) {
    counts.set(seg.name, (counts.get(seg.name) ?? 0) + 1);
    if (!SEGMENT_NAME.test(seg.name)) add(seg.name === '' ? `segment ${seg.index + 1}` : seg.name, 'hl7.segment_name', `'${seg.name}' is not a valid segment name`, 'warning');
  }
  if ((counts.get('MSH') ?? 0) > 1) add('MSH[2]', 'hl7.structure', 'A second MSH segment: this looks like several messages (use splitBatch)', 'error');

  const rule = structureRule(code, trigger);
  if (rule !== undefined) {
    const type = trigger === '' ? code : `${code}^${trigger}`;
    for (const name of rule.required) if (!counts.has(name)) add(name, 'hl7.structure', `${type} needs segment ${name}, which is missing`, 'error');
    for (const name of rule.recommended) if (!counts.has(name)) add(name, 'hl7.structure', `${type} usually has segment ${name}, which is missing`, 'warning');
  }
  if (code === 'ORU') {
    let seenObr = false;
    let obx = 0;
    for (const seg of segs) {
      if (seg.name === 'OBR') seenObr = true;
      else if (seg.name === 'OBX') {
        obx++;
        if (!seenObr) add(`OBX[${obx}]`, 'hl7.structure', 'An OBX segment before any OBR', 'error');
      }
    }
  }

  for (const path of DATE_FIELDS) {
    const name = path.slice(0, 3);
    const field = Number(path.slice(4));
    let k = 0;
    for (const seg of segs) {
      if (seg.name !== name) continue;
      k++;
      const v = value(seg, field, 1);
      if (v === '' || v === '""') continue;
      const why = checkDateTime(v);
      if (why !== undefined) {
        const at = (counts.get(name) ?? 0) > 1 ? `${name}[${k}]-${field}` : path;
        add(at, 'hl7.date', `${at} '${v}' ${why}`, 'warning');
      }
    }
  }
}
