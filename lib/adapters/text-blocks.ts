/** How much text a block gathers before it is written: one write per line would be a syscall per finding. */
const BLOCK_CHARS = 256 * 1024;

/**
 * Chunks of text gathered into UTF-8 blocks of about `blockChars` characters each, in order, so a writer
 * makes a few hundred writes for a report, not one per line, while holding one block at a time.
 */
export function* utf8Blocks(chunks: Iterable<string>, blockChars = BLOCK_CHARS): Generator<Buffer> {
  let pending: string[] = [];
  let size = 0;
  for (const chunk of chunks) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= blockChars) {
      yield Buffer.from(pending.join(''), 'utf8');
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.from(pending.join(''), 'utf8');
}
