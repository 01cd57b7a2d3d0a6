import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { holdsSeveralMessages, startsWithBatchHeader, parseBatch, parseMessage, splitBatch, parseBatchBytes } from './index';

const corpusDir = fileURLToPath(new URL('../../../testdata/hl7/', import.meta.url));

const M1 = 'MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5\rPID|1\r';
const M2 = 'MSH|^~\\&|A|B|||||ADT^A08|2|P|2.5\rPID|2\rPV1|1\r';
const M3 = 'MSH|^~\\&|A|B|||||ORU^R01|3|P|2.5\rOBR|1\rOBX|1\r';

describe('splitBatch', () => {
  it('splits a FHS/BHS batch file, leaving the headers out', () => {
    const file = `FHS|^~\\&|A\rBHS|^~\\&|A\r${M1}${M2}BTS|2\rBHS|^~\\&|A\r${M3}BTS|1\rFTS|2\r`;
    expect(splitBatch(file)).toEqual([M1, M2, M3]);
  });

  it('splits messages back to back, keeping their terminators', () => {
    const lf = [M1, M2, M3].map((m) => m.replace(/\r/g, '\n'));
    expect(splitBatch(lf.join(''))).toEqual(lf);
    const crlf = [M1, M2].map((m) => m.replace(/\r/g, '\r\n'));
    expect(splitBatch('\uFEFF' + crlf.join('\r\n'))).toEqual([crlf[0] + '\r\n', crlf[1]]);
    expect(splitBatch(M1 + M2.slice(0, -1))).toEqual([M1, M2.slice(0, -1)]);
  });

  it('returns each corpus message unchanged when they are joined in one file', () => {
    const texts = readdirSync(corpusDir)
      .filter((f) => f.endsWith('.hl7'))
      .sort()
      .map((f) => readFileSync(corpusDir + f, 'utf8').replace(/^\uFEFF/, ''));
    const joined = texts.map((t) => (/[\r\n]$/.test(t) ? t : t + '\n')).join('');
    const parts = splitBatch(joined);
    expect(parts).toHaveLength(texts.length);
    parts.forEach((p, i) => expect(p.replace(/\n$/, '')).toBe(texts[i].replace(/\n$/, '')));
  });

  it('returns nothing for text without messages', () => {
    expect(splitBatch('')).toEqual([]);
    expect(splitBatch('hello\nworld')).toEqual([]);
  });
});

describe('parseBatch', () => {
  it('reads headers, trailers and counts', () => {
    const file = `FHS|^~\\&|A\rBHS|^~\\&|A\r${M1}${M2}BTS|2\rBHS|^~\\&|B\r${M3}BTS|1\rFTS|2\r`;
    const b = parseBatch(file);
    expect(b.fileHeader).toBe('FHS|^~\\&|A');
    expect(b.fileTrailer).toBe('FTS|2');
    expect(b.batchHeaders).toEqual(['BHS|^~\\&|A', 'BHS|^~\\&|B']);
    expect(b.batchTrailers).toEqual(['BTS|2', 'BTS|1']);
    expect(b.messages.map((m) => m.controlId)).toEqual(['1', '2', '3']);
    expect(b.messages[1].toString()).toBe(M2);
    expect(b.trailerCounts).toEqual({ batches: [2, 1], file: 2 });
    expect(b.problems).toEqual([]);
  });

  it('reports wrong counts, missing trailers and stray lines', () => {
    const b = parseBatch(`stray\nFHS|^~\\&\nBHS|^~\\&\n${M1.replace(/\r/g, '\n')}BTS|5\nBHS|^~\\&\n${M2.replace(/\r/g, '\n')}FTS|1\n`);
    expect(b.messages).toHaveLength(2);
    expect(b.trailerCounts).toEqual({ batches: [5, undefined], file: 1 });
    expect(b.problems.map((p) => p.path)).toEqual(['line 1', 'BTS[1]-1', 'BHS[2]', 'FTS-1']);
    expect(b.problems.every((p) => p.code === 'hl7.batch' && p.severity === 'warning')).toBe(true);
  });

  it('reads a plain multi-message file', () => {
    const b = parseBatch(M1 + M2 + M3);
    expect(b.messages).toHaveLength(3);
    expect(b.fileHeader).toBeUndefined();
    expect(b.problems).toEqual([]);
  });
});

describe('parseBatchBytes and startsWithBatchHeader', () => {
  const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const utf8 = (s: string) => new TextEncoder().encode(s);

  it('returns each message as its exact bytes, whatever the character set (ISO-8859-1 and UTF-8 alike)', () => {
    const m1 = 'MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5|||||D|8859/1\rPID|1||1||M\xfcller\r';
    const m2 = 'MSH|^~\\&|A|B|||||ADT^A08|2|P|2.5\rPID|2||2||G\xf6the\r';
    const file = `FHS|^~\\&|A|B|||||||FILE-7\rBHS|^~\\&|A|B|||||||BATCH-1\r${m1}${m2}BTS|2\rFTS|1\r`;
    const b = parseBatchBytes(latin1(file));
    expect(b.messages).toEqual([latin1(m1), latin1(m2)]);
    expect(b.controlId).toBe('BATCH-1');
    expect(b.problems).toEqual([]);
    const u = parseBatchBytes(utf8('\uFEFF' + file));
    expect(u.messages).toEqual([utf8(m1), utf8(m2)]);
    expect(parseBatchBytes(latin1(`FHS|^~\\&|A||||||||F-9\r${M1}FTS|0\r`)).controlId).toBe('F-9');
  });

  it('checks trailer counts as parseBatch does', () => {
    const b = parseBatchBytes(utf8(`BHS|^~\\&\r${M1}${M2}BTS|3\r`));
    expect(b.messages).toHaveLength(2);
    expect(b.trailerCounts).toEqual({ batches: [3] });
    expect(b.problems.map((p) => [p.path, p.message])).toEqual([['BTS[1]-1', 'BTS-1 says 3 messages, the batch holds 2']]);
  });

  it('tells a batch header at the start, after a BOM or blank lines, and nothing else', () => {
    expect(startsWithBatchHeader(utf8(`BHS|^~\\&\r${M1}BTS|1\r`))).toBe(true);
    expect(startsWithBatchHeader(utf8(`\uFEFF\r\nFHS|^~\\&\r${M1}`))).toBe(true);
    expect(startsWithBatchHeader(utf8(M1 + M2))).toBe(false);
    expect(startsWithBatchHeader(utf8(`PID|1\r${M1}`))).toBe(false);
    expect(startsWithBatchHeader(utf8('BHSX|1\r'))).toBe(false);
    expect(startsWithBatchHeader(new Uint8Array(0))).toBe(false);
  });
});

describe('holdsSeveralMessages', () => {
  it('tells a parsed message that is really several from one message', () => {
    expect(holdsSeveralMessages(parseMessage(M1))).toBe(false);
    expect(holdsSeveralMessages(parseMessage(M1 + M2))).toBe(true);
    expect(holdsSeveralMessages(parseMessage(`${M1}BTS|1\r`))).toBe(true);
  });
});
