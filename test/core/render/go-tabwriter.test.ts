import { describe, expect, it } from 'vitest';
import { goTabwriter } from '../../../lib/core/render/go-tabwriter.ts';

describe('goTabwriter (Go text/tabwriter, flags 0)', () => {
  const go = { minwidth: 0, padding: 1 };

  it('sizes a column by its block of consecutive lines that have it, and never pads the last cell', () => {
    // Go: a\tb\tc\n aaaa\tb\n x\n y\tzz\n → the line without tabs ends the blocks.
    expect(goTabwriter('a\tb\tc\naaaa\tb\nx\ny\tzz\n', go)).toBe('a    b c\naaaa b\nx\ny zz\n');
  });

  it('counts code points, as Go counts runes', () => {
    expect(goTabwriter('ü\tx\nab\ty\n', go)).toBe('ü  x\nab y\n');
  });

  it('honours minwidth', () => {
    expect(goTabwriter('a\tb\n', { ...go, minwidth: 4 })).toBe('a   b\n');
  });
});
