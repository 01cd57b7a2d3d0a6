export * from './coordinator';
export { InProcessCoordinator } from './in-process-coordinator';
