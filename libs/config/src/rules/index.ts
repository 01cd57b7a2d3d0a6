export * from './evaluate';
export * from './traps';
export * from './transform';
export * from './v2-fhir-map';
