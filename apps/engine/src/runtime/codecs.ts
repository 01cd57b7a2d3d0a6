import { registerCodec } from '@hie/envelope';
import { fhirCodec } from '@hie/fhir';
import { hl7Codec } from '@hie/hl7';

let done = false;

/**
 * Register the codecs that live outside @hie/envelope: HL7 v2 ER7 (@hie/hl7) and FHIR R4 JSON
 * (@hie/fhir, in place of the envelope's shallow `resourceType` check, which stays the fallback
 * where @hie/fhir is not loaded). Idempotent.
 */
export function registerBuiltinCodecs(): void {
  if (done) return;
  done = true;
  registerCodec(hl7Codec);
  registerCodec(fhirCodec);
}
