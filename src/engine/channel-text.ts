/**
 * One output channel (reasoning or answer) as the user sees it: leading and
 * trailing whitespace trimmed, and text cut at the first stop string. Text is
 * released for streaming only once no stop string or trailing whitespace can
 * still change it, so the streamed deltas always add up to the final text.
 */
export class ChannelText {
  private raw = '';
  private emitted = 0;
  private stoppedAt = -1;

  constructor(private readonly stops: readonly string[]) {}

  private get holdBack(): number {
    return this.stops.reduce((m, s) => Math.max(m, s.length - 1), 0);
  }

  get stopped(): boolean {
    return this.stoppedAt >= 0;
  }

  /** Appends decoded text; returns the newly releasable text. Sets `stopped` when a stop string appears. */
  append(text: string): string {
    if (this.stopped || !text) return '';
    const searchFrom = Math.max(0, this.raw.length - this.holdBack);
    this.raw += text;
    for (const s of this.stops) {
      const at = this.raw.indexOf(s, searchFrom);
      if (at >= 0 && (this.stoppedAt < 0 || at < this.stoppedAt)) this.stoppedAt = at;
    }
    if (this.stopped) this.raw = this.raw.slice(0, this.stoppedAt);
    return this.release(this.stopped ? 0 : this.holdBack);
  }

  /** Ends the channel and returns what was still held back. */
  finish(): string {
    return this.release(0);
  }

  get text(): string {
    return this.raw.trim();
  }

  private release(holdBack: number): string {
    const visible = this.raw.trimStart();
    let end = visible.length - holdBack;
    // trailing whitespace waits: it is only part of the text if more follows
    while (end > 0 && /\s/.test(visible[end - 1])) end--;
    // never split a surrogate pair between two deltas
    if (end > 0 && end < visible.length && /[\ud800-\udbff]/.test(visible[end - 1])) end--;
    if (end <= this.emitted) return '';
    const out = visible.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }
}
