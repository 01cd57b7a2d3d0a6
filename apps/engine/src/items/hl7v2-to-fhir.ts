import { BUILTIN_V2_FHIR_MAPS, hl7v2ToFhirSettings } from '@hie/config';
import { CONTENT_TYPES } from '@hie/envelope';
import { hasErrors, issueLines, validateFhir, warmFhirR4 } from '@hie/fhir';
import type { Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { compileV2FhirMap, runV2FhirMap, type CompiledV2FhirMap } from './v2-fhir-map';

/** Triggers the built-in ADT map covers (`auto` picks it for these). */
const ADT_TRIGGERS = new Set(['A01', 'A04', 'A08', 'A03']);

/** Most issues copied into a failure's message and trace (a broken map can give hundreds). */
const MAX_ISSUES_SHOWN = 20;

/**
 * `hl7v2.to.fhir`: turns an HL7 v2 message into a FHIR Bundle with a map that is data (JSON,
 * validated by `v2FhirMap`), interpreted rule by rule — never evaluated as code. The built-in maps
 * (`adt`, `oru-r01`) ship as JSON in @hie/config; `custom` takes one inline.
 *
 * The Bundle is validated against FHIR R4 before it leaves: an invalid one fails the message (a
 * user error, not retried) with the issues, located by FHIRPath, in its trace. Values the map could
 * not convert (a date that is no date) are skipped and noted in the trace as `mapWarnings`.
 */
export const hl7v2ToFhir = defineItemType({
  type: 'hl7v2.to.fhir',
  version: 1,
  kind: 'process',
  description: 'Map HL7 v2 (ADT, ORU) to a FHIR Bundle with a map (data)',
  settings: hl7v2ToFhirSettings,
  module: import.meta.url,
  create(settings) {
    const builtins = { adt: compileV2FhirMap(BUILTIN_V2_FHIR_MAPS.adt), 'oru-r01': compileV2FhirMap(BUILTIN_V2_FHIR_MAPS['oru-r01']) };
    const custom = settings.custom ? compileV2FhirMap(settings.custom) : undefined;

    function mapFor(msg: Hl7Message): CompiledV2FhirMap {
      if (settings.map === 'custom') return custom!;
      if (settings.map !== 'auto') return builtins[settings.map];
      const [type, trigger] = [msg.get('MSH-9.1') ?? '', msg.get('MSH-9.2') ?? ''];
      if (type === 'ADT' && ADT_TRIGGERS.has(trigger)) return builtins.adt;
      if (type === 'ORU' && trigger === 'R01') return builtins['oru-r01'];
      throw new EngineError('fhir.map_unsupported', `no built-in v2→FHIR map for ${type}^${trigger} (ADT A01/A04/A08/A03 and ORU R01 have one; use a custom map)`, 'user', {
        messageType: `${type}^${trigger}`,
      });
    }

    return {
      /** The R4 definitions are loaded now, not on the first message. */
      onStart() {
        warmFhirR4();
      },
      onMessage(envelope, ctx) {
        const msg = envelope.parse<Hl7Message>();
        const map = mapFor(msg);
        const { bundle, warnings } = runV2FhirMap(map, msg);
        const issues = validateFhir(bundle);
        if (hasErrors(issues)) {
          const lines = issueLines(issues).slice(0, MAX_ISSUES_SHOWN);
          throw new EngineError('fhir.map_invalid_output', `map ${map.map.name} made an invalid Bundle: ${lines.join('; ')}`, 'user', { map: map.map.name, issues: lines });
        }
        ctx.note({ map: map.map.name, entries: (bundle['entry'] as unknown[]).length, ...(warnings.length > 0 ? { mapWarnings: warnings.slice(0, MAX_ISSUES_SHOWN) } : {}) });
        const out = envelope.withBody(JSON.stringify(bundle), { contentType: CONTENT_TYPES.fhirJson, messageType: `Bundle/${map.map.bundleType}`, schemaVersion: '4.0.1' });
        ctx.send(out);
      },
    };
  },
});
