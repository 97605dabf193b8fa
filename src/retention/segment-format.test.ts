import { describe, expect, it } from 'vitest';
import { leafHash, nodeHash } from '../ledger/merkle.js';
import {
  entriesPage,
  entryLinesPage,
  segmentPageBounds,
  splitEntryLine,
  type SegmentEntryRow,
} from './segment-format.js';

const utf8 = new TextEncoder();

describe('segment pages', () => {
  it('are aligned to multiples of the page size, so a whole page is one complete subtree', () => {
    expect(segmentPageBounds(5, 21, 8)).toEqual([
      [5, 8],
      [8, 16],
      [16, 21],
    ]);
    expect(segmentPageBounds(8, 16, 8)).toEqual([[8, 16]]);
    expect(segmentPageBounds(3, 3, 8)).toEqual([]);
  });

  it('hash each record as written and give the subtree of a whole page', () => {
    const records = ['{"a":1}', '{"b":"é"}', '{"c":3}', '{"d":4}'];
    const rows: SegmentEntryRow[] = records.map((r, i) => [4 + i, i === 2 ? null : r, i, 'default', null]);
    const retiredLeaf = leafHash(utf8.encode(records[2] as string));
    rows[2] = [6, null, null, null, retiredLeaf];
    const page = entriesPage(rows, 4);
    const leaves = records.map((r) => leafHash(utf8.encode(r)));
    expect(Buffer.from(page.leaves)).toEqual(Buffer.concat(leaves));
    expect(page.retired).toEqual([6]);
    expect(page.subtree).toEqual({
      level: 2,
      index: 1,
      hash: nodeHash(
        nodeHash(leaves[0] as Uint8Array, leaves[1] as Uint8Array),
        nodeHash(leaves[2] as Uint8Array, leaves[3] as Uint8Array),
      ),
    });
    const lines = new TextDecoder().decode(page.text).split('\n');
    expect(splitEntryLine(lines[1] as string)).toEqual({
      head: { type: 'entry', index: 5, event: { seq: 1, scope: 'default' }, record: null },
      bytes: '{"b":"é"}',
    });
    expect(lines[2]).toBe('{"type":"entry","index":6,"retired":true}');
  });

  it('read from lines the store wrote give the same leaves, retired entries and subtree', () => {
    const records = ['{"a":1}', '{"b":"é\\n"}', '{"c":3}', '{"d":{"e":"}"}}'];
    const rows: SegmentEntryRow[] = records.map((r, i) => [
      8 + i,
      r,
      10 + i,
      i === 1 ? 'team "x"' : 'default',
      null,
    ]);
    const retiredLeaf = leafHash(utf8.encode('gone'));
    rows[2] = [10, null, null, null, retiredLeaf];
    const page = entriesPage(rows, 8);
    const text = Buffer.from(page.text);
    const read = entryLinesPage(8, [4, text, Buffer.from(retiredLeaf).toString('hex'), null]);
    expect(Buffer.from(read.leaves)).toEqual(Buffer.from(page.leaves));
    expect(read.retired).toEqual([10]);
    expect(read.subtree).toEqual(page.subtree);
    // Hashed in place: the text is as it came.
    expect(text.equals(Buffer.from(page.text))).toBe(true);
  });

  it('read from lines refuse a gap, an entry without bytes, and lines that do not add up', () => {
    const line = (index: number) => `{"type":"entry","index":${index},"record":{}}\n`;
    const lines = (...indexes: number[]) => Buffer.from(indexes.map(line).join(''));
    expect(() => entryLinesPage(0, [2, lines(0, 2), null, null])).toThrow('ledger entry 1 is missing');
    expect(() => entryLinesPage(0, [2, lines(0, 1), null, 1])).toThrow(
      'ledger entry 1 has neither bytes nor a leaf hash',
    );
    expect(() => entryLinesPage(0, [1, lines(0, 1), null, null])).toThrow('holds more than 1 lines');
    const retired = Buffer.from('{"type":"entry","index":0,"retired":true}\n');
    expect(() => entryLinesPage(0, [1, retired, '', null])).toThrow(
      'ledger entry 0 has neither bytes nor a leaf hash',
    );
    expect(() => entryLinesPage(0, [1, lines(0), 'ab'.repeat(32), null])).toThrow(
      'has 1 stored leaf hashes for 0 retired entries',
    );
    expect(() =>
      entryLinesPage(0, [1, Buffer.from('{"type":"entry","index":0,"other":1}\n'), null, null]),
    ).toThrow('the line of ledger entry 0 is neither a record nor retired');
    expect(() =>
      entryLinesPage(0, [1, Buffer.from('{"type":"other","index":0,"record":{}}\n'), null, null]),
    ).toThrow('ledger entry 0 is missing');
  });

  it('refuse a gap in the entries', () => {
    expect(() =>
      entriesPage(
        [
          [0, '{}', null, null, null],
          [2, '{}', null, null, null],
        ],
        0,
      ),
    ).toThrow('ledger entry 1 is missing');
  });
});
