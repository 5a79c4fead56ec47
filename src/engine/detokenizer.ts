/**
 * UTF-8-safe incremental detokenization: a multi-byte character split across
 * tokens decodes to U+FFFD until its last byte arrives, so text is released
 * only when the decoded window does not end in U+FFFD. Decoding a window that
 * starts one token back (prefix/read offsets, as in TGI) keeps tokenizers
 * that drop a leading space at a segment start from losing it mid-stream.
 */
export class IncrementalDecoder {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  get tokens(): readonly number[] {
    return this.ids;
  }

  /** Adds a token and returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.ids.push(id);
    const before = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = this.decode(this.ids.slice(this.prefixOffset));
    if (after.length > before.length && !after.endsWith('\uFFFD')) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return after.slice(before.length);
    }
    return '';
  }

  /** Whatever is still held back at the end (an incomplete character comes out as U+FFFD). */
  flush(): string {
    const before = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = this.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return after.slice(before.length);
  }
}
