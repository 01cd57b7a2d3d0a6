import { registerCodec } from '@hie/envelope';
import { hl7Codec } from '@hie/hl7';

let done = false;

/** Register the codecs that live outside @hie/envelope (HL7 v2 ER7). Idempotent. */
export function registerBuiltinCodecs(): void {
  if (done) return;
  done = true;
  registerCodec(hl7Codec);
}
