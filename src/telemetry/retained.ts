/**
 * Retained messages (metrics, Home Assistant configs) go straight to the broker:
 * only the latest of each topic matters, so while offline we keep the latest per
 * topic and send those on reconnect instead of queueing every sample in the outbox.
 */
export interface BrokerLink {
  readonly connected: boolean;
  publish(topic: string, payload: string, o: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  onConnect(listener: () => void): void;
}

export class RetainedPublisher {
  private readonly pending = new Map<string, string>();
  private started = false;

  constructor(
    private readonly link: BrokerLink,
    private readonly log: (line: string) => void = () => {},
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.link.onConnect(() => void this.flush());
  }

  async publish(topic: string, payload: string): Promise<void> {
    this.pending.set(topic, payload);
    await this.flush();
  }

  private async flush(): Promise<void> {
    for (const [topic, payload] of [...this.pending]) {
      if (!this.link.connected) return;
      this.pending.delete(topic);
      try {
        await this.link.publish(topic, payload, { qos: 1, retain: true });
      } catch (e) {
        // keep it unless a newer one arrived meanwhile
        if (!this.pending.has(topic)) this.pending.set(topic, payload);
        this.log(`retained ${topic} not sent yet: ${(e as Error).message}`);
        return;
      }
    }
  }
}
