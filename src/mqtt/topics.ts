/** Every topic the agent uses, in one place (docs/API.md lists them). */
export interface TopicConfig {
  base_topic: string;
  device_id: string;
  pool: string;
}

export function topics(c: TopicConfig) {
  const device = `${c.base_topic}/${c.device_id}`;
  return {
    task: `${device}/task`,
    poolTask: `${c.base_topic}/pool/${c.pool}/task`,
    /** MQTT 5 shared subscription: the broker hands each pool task to one member. */
    poolShared: `$share/${c.pool}/${c.base_topic}/pool/${c.pool}/task`,
    status: `${device}/status`,
    events: `${device}/events`,
    requestFilter: `${device}/request/#`,
    requestPrefix: `${device}/request/`,
    response: (action: string) => `${device}/response/${action}`,
  };
}

export type Topics = ReturnType<typeof topics>;

/** MQTT topic filter matching (+ one level, # the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** A topic we may publish to: no wildcards, not empty, not a $ system topic. */
export const isPublishableTopic = (t: string) => t.length > 0 && t.length <= 1024 && !/[+#\u0000]/.test(t) && !t.startsWith('$');
