/**
 * The pure part of the rule and transform editors: a sample message as a tree, the step a drag
 * makes, and the preview of a transform with its diff. Parsing, rule evaluation and transform
 * operations are the engine's own code (@hie/hl7, @hie/config), run here in the browser.
 */
import { HL7_FIELDS, type RouterTestResult, type TransformOperation, applyOperations, condition, hl7RouterSettings, testRouter } from '@hie/config';
import { type Hl7Message, type Hl7Segment, parseMessage } from '@hie/hl7';
import { fieldName } from '../lib/hl7';

/** An ADT^A01 (v2.4, MSH-9 with three components): the sample until someone pastes their own. */
export const DEFAULT_SAMPLE = [
  'MSH|^~\\&|PAS|RFH|RIS|RFH|20240101120000||ADT^A01^ADT_A01|MSG00001|P|2.4',
  'EVN|A01|20240101120000',
  'PID|1||123456^^^HOSP^MR~9434765919^^^NHS^NH||DOE^JANE^Q||19800101|F|||1 HIGH ST^^LONDON^^N1 1AA^GBR',
  'PV1|1|I|WARD1^101^1',
].join('\r');

/** A FHIR R4 Patient: the sample of `fhir.router` rules until someone pastes their own. */
export const DEFAULT_FHIR_SAMPLE = JSON.stringify(
  {
    resourceType: 'Patient',
    id: 'example',
    active: true,
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
    name: [{ family: 'Doe', given: ['Jane', 'Q'] }],
    gender: 'female',
    birthDate: '1980-01-01',
  },
  null,
  2,
);

/** One node of the sample tree: a field, one repetition of it, or a component. */
export interface TreeNode {
  /** HL7 path that reads this value (`PID-3[2].1`). */
  path: string;
  /** Field, repetition or component label: `PID-3 Patient Identifier List`, `[2]`, `.1`. */
  label: string;
  /** The value (raw for a composite field). */
  value: string;
  children: TreeNode[];
}

export interface TreeSegment {
  /** `PID`, or `OBX[2]` for a second occurrence. */
  path: string;
  name: string;
  fields: TreeNode[];
}

/** Normalises pasted text (LF or CRLF line ends) to an HL7 message string. */
export function normaliseSample(text: string): string {
  return text.replace(/\r\n|\n/g, '\r').replace(/\r+$/, '');
}

/** Parses a sample; `{ error }` instead of throwing, for a form. */
export function parseSample(text: string): { msg: Hl7Message } | { error: string } {
  try {
    return { msg: parseMessage(normaliseSample(text)) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function componentNodes(seg: Hl7Segment, base: string, field: number, rep: number): TreeNode[] {
  const comps = seg.components(field, rep);
  if (comps.length <= 1) return [];
  return comps.map((c, i) => ({ path: `${base}.${i + 1}`, label: `.${i + 1}`, value: c, children: [] }));
}

/** The message as segments → fields → repetitions → components; empty fields are kept (drop targets). */
export function messageTree(msg: Hl7Message): TreeSegment[] {
  const seen = new Map<string, number>();
  return msg.segments().map((seg) => {
    const occurrence = (seen.get(seg.name) ?? 0) + 1;
    seen.set(seg.name, occurrence);
    const segPath = occurrence === 1 ? seg.name : `${seg.name}[${occurrence}]`;
    const fields: TreeNode[] = [];
    const first = seg.name === 'MSH' ? 3 : 1; // MSH-1/2 are the delimiters
    for (let f = first; f <= seg.fieldCount; f++) {
      const raw = seg.field(f) ?? '';
      const path = `${segPath}-${f}`;
      const name = fieldName(seg.name, f);
      const reps = seg.repetitionCount(f);
      const children =
        reps > 1
          ? Array.from({ length: reps }, (_, r) => {
              const rp = `${path}[${r + 1}]`;
              return { path: rp, label: `[${r + 1}]`, value: seg.get(f, undefined, undefined, r + 1) ?? '', children: componentNodes(seg, rp, f, r + 1) };
            })
          : componentNodes(seg, path, f, 1);
      fields.push({ path, label: name ? `${path} ${name}` : path, value: raw, children });
    }
    return { path: segPath, name: seg.name, fields };
  });
}

/** What is dragged: a node of the sample tree. */
export interface DragSource {
  path: string;
  value: string;
}

/**
 * Where a dragged field can be dropped. The hl7.transform editor's targets are paths of the
 * message (copy) and "set a value"; a map to another format (hl7v2.to.fhir) brings its own.
 */
export interface MapTarget {
  /** Unique id, e.g. `copy:PID-2` or `set`. */
  id: string;
  /** What a person reads on the drop zone. */
  label: string;
  /** Heading the target is shown under (a FHIR map: the resource). */
  group?: string;
}

/** The hl7.transform step a drop makes: onto a field → copy there; onto "set" → set the source to its current value (edit it after). */
export function stepFromDrop(source: DragSource, target: MapTarget): TransformOperation | undefined {
  if (target.id === 'set') return { op: 'set', path: source.path, value: source.value };
  if (target.id === 'delete') return { op: 'delete', path: source.path };
  if (target.id.startsWith('copy:')) {
    const to = target.id.slice('copy:'.length);
    if (to === '' || to === source.path) return undefined;
    return { op: 'copy', from: source.path, to };
  }
  return undefined;
}

/** Moves the step at `from` to index `to` (drag to reorder, or up/down). */
export function moveStep<T>(steps: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || from >= steps.length || to < 0 || to >= steps.length) return [...steps];
  const next = [...steps];
  const [x] = next.splice(from, 1);
  next.splice(to, 0, x!);
  return next;
}

/** One line of a segment diff. */
export interface DiffLine {
  kind: 'same' | 'changed' | 'added' | 'removed';
  before?: string;
  after?: string;
  /** For `changed`: the field numbers whose text differs. */
  fields?: number[];
}

function changedFields(a: string, b: string): number[] {
  const fa = a.split('|');
  const fb = b.split('|');
  const out: number[] = [];
  for (let i = 1; i < Math.max(fa.length, fb.length); i++) if ((fa[i] ?? '') !== (fb[i] ?? '')) out.push(a.startsWith('MSH') ? i + 1 : i);
  return out;
}

/** Segment-by-segment diff (LCS on segment lines; a removed + added pair of one segment name is "changed"). */
export function diffSegments(before: string, after: string): DiffLine[] {
  const a = before.split('\r').filter((s) => s !== '');
  const b = after.split('\r').filter((s) => s !== '');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', before: a[i], after: b[j] });
      i++;
      j++;
    } else if (i < a.length && j < b.length && a[i]!.slice(0, 3) === b[j]!.slice(0, 3) && lcs[i + 1]![j + 1] === lcs[i]![j]) {
      out.push({ kind: 'changed', before: a[i], after: b[j], fields: changedFields(a[i]!, b[j]!) });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ kind: 'removed', before: a[i++] });
    else out.push({ kind: 'added', after: b[j++] });
  }
  return out;
}

export type Preview = { ok: true; output: string; diff: DiffLine[] } | { ok: false; error: string };

/** Runs transform steps on a sample exactly as the engine does, and diffs the result against the input. */
export function previewTransform(sample: string, steps: readonly TransformOperation[]): Preview {
  const parsed = parseSample(sample);
  if ('error' in parsed) return { ok: false, error: parsed.error };
  const input = parsed.msg.toString();
  try {
    applyOperations(parsed.msg, steps);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  const output = parsed.msg.toString();
  return { ok: true, output, diff: diffSegments(input, output) };
}

/**
 * "Test this rule" for `hl7.router`: the rules as the editor holds them on the sample, with the
 * engine's evaluation (`fhir.router` rules are tested by the manager: FHIRPath runs there).
 */
export function testHl7Rules(settings: unknown, sample: string): RouterTestResult | { error: string } {
  const parsed = parseSample(sample);
  if ('error' in parsed) return { error: parsed.error };
  return testRouter(settings, { settings: hl7RouterSettings, condition }, parsed.msg, HL7_FIELDS);
}
