/**
 * MQTT 5 shared subscriptions ($share/<group>/<filter>) for the embedded
 * broker: aedes speaks MQTT 3.1.1 only and delivers a `$share/...` filter
 * nothing, so a pool of agents on it would each get every task. The broker
 * subscribes members to the plain filter and asks allow() per delivery; one
 * member per group, round robin, gets each message.
 */
import { topicMatches } from '../protocol/topics.js';

const SHARE = /^\$share\/([^/#+]+)\/(.+)$/;
const MAX_DECISIONS = 10_000;

export function parseShared(filter: string): { group: string; filter: string } | undefined {
  const m = SHARE.exec(filter);
  return m ? { group: m[1], filter: m[2] } : undefined;
}

export class SharedGroups {
  /** group\0filter → member client ids, in join order. */
  private readonly groups = new Map<string, string[]>();
  private readonly turn = new Map<string, number>();
  /** packet\0group → the member chosen for it. */
  private readonly decisions = new Map<string, string>();

  join(clientId: string, group: string, filter: string): void {
    const key = `${group}\0${filter}`;
    const members = this.groups.get(key) ?? [];
    if (!members.includes(clientId)) members.push(clientId);
    this.groups.set(key, members);
  }

  leave(clientId: string, filter?: string): void {
    for (const [key, members] of this.groups) {
      if (filter !== undefined && !key.endsWith(`\0${filter}`)) continue;
      const left = members.filter((m) => m !== clientId);
      if (left.length === 0) this.groups.delete(key);
      else this.groups.set(key, left);
    }
  }

  /** Whether clientId should receive the message packetKey published on topic. */
  allow(clientId: string, packetKey: string, topic: string): boolean {
    for (const [key, members] of this.groups) {
      if (!members.includes(clientId) || !topicMatches(key.slice(key.indexOf('\0') + 1), topic)) continue;
      const decisionKey = `${packetKey}\0${key}`;
      let chosen = this.decisions.get(decisionKey);
      if (chosen === undefined) {
        const n = this.turn.get(key) ?? 0;
        chosen = members[n % members.length];
        this.turn.set(key, n + 1);
        this.decisions.set(decisionKey, chosen);
        if (this.decisions.size > MAX_DECISIONS) this.decisions.delete(this.decisions.keys().next().value!);
      }
      return chosen === clientId;
    }
    return true;
  }
}
