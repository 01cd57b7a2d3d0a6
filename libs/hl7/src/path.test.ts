import { describe, expect, it } from 'vitest';
import { formatPath, isHl7Error, parsePath } from './index';

describe('parsePath', () => {
  it('parses every part', () => {
    expect(parsePath('PID')).toEqual({ segment: 'PID' });
    expect(parsePath('OBX[3]-5[2].1.2')).toMatchObject({ segment: 'OBX', segmentIndex: 3, field: 5, repetition: 2, component: 1, subcomponent: 2 });
    expect(parsePath('MSH-9.1')).toMatchObject({ segment: 'MSH', field: 9, component: 1 });
    expect(parsePath('ZP1-12')).toMatchObject({ segment: 'ZP1', field: 12 });
    expect(parsePath('MSH-1')).toMatchObject({ field: 1 });
  });

  it('round-trips through formatPath', () => {
    for (const p of ['PID', 'OBX[3]', 'PID-3', 'PID-3[2]', 'PID-5.1', 'PID-5.1.2', 'OBX[3]-5[2].1.2']) expect(formatPath(parsePath(p))).toBe(p);
  });

  it('rejects bad paths with hl7.path', () => {
    for (const bad of ['', 'P', 'Pid', 'PID-', 'PID-0', 'PID-3.0', 'PID[0]', 'PID[1', 'PID-3[2', 'PID-3..1', 'PID-3.1.1.1', 'PID.3', 'PID-10000', 'MSH-2.1', 'MSH-1[2]']) {
      try {
        parsePath(bad);
        expect.unreachable(bad);
      } catch (e) {
        expect(isHl7Error(e, 'hl7.path'), bad).toBe(true);
      }
    }
  });
});
