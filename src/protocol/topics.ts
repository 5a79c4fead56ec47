/**
 * Every topic of the MQTT API, in one place (#19): the agent, the controller,
 * the CLI, the tests and docs/API.md all build topics here and nowhere else.
 */

/** Config values that become topic levels: MQTT wildcards or empty levels would subscribe to other devices' tasks. */
export const TOPIC_LEVEL = { regex: /^[A-Za-z0-9._-]+$/, rule: 'letters, digits, ".", "_" or "-" (it is one topic level)' } as const;
export const TOPIC_PREFIX = { regex: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, rule: 'topic levels of letters, digits, ".", "_" or "-" separated by "/"' } as const;

export interface TopicConfig {
  base_topic: string;
  device_id: string;
  pool: string;
}

/** A device's own topics: `<base>/<device>/<kind>`. */
export const deviceTopic = (base: string, device: string, kind: 'task' | 'status' | 'metrics' | 'events') => `${base}/${device}/${kind}`;
/** A pool's task topic, which every agent of the pool subscribes to as a shared subscription. */
export const poolTaskTopic = (base: string, pool: string) => `${base}/pool/${pool}/task`;
/** A request to one device's handler table, and where its reply comes back. */
export const deviceRequestTopic = (base: string, device: string, action: string) => `${base}/${device}/request/${action}`;

/** `<base>/<device>/jobs/<job>/result`: a job's latest result, retained (issue 18). */
export const jobResultTopic = (base: string, device: string, job: string) => `${base}/${device}/jobs/${job}/result`;

/** `<base>/<device>/jobs/<job>/result` read back: the device and the job, or undefined. */
export function parseJobResultTopic(base: string, topic: string): { device: string; job: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== base || parts[2] !== 'jobs' || parts[4] !== 'result') return undefined;
  return { device: parts[1], job: parts[3] };
}

/** A valid MQTT topic filter: levels of `+` or `#` alone, `#` only last; no empty filter, no NUL. What is wrong, or undefined. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'is empty';
  if (filter.length > 1024) return 'is longer than 1024 characters';
  if (filter.includes('\u0000')) return 'holds a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return `has "#" where it may not be ("#" must be a whole level, and the last): level ${i + 1} is ${JSON.stringify(l)}`;
    if (l.includes('+') && l !== '+') return `has "+" inside a level ("+" must be a whole level): level ${i + 1} is ${JSON.stringify(l)}`;
  }
  if (filter.startsWith('$')) return 'starts with "$" (the broker\'s own topics)';
  return undefined;
}

/** Home Assistant's Ask entity (issue 20): the question it sends, and where the agent answers it (a task result). */
export const haTopics = (base: string, device: string) => ({ ask: `${base}/${device}/ha/ask`, answer: `${base}/${device}/ha/answer` });

/** The topics one agent serves and publishes on. */
export function topics(c: TopicConfig) {
  const device = `${c.base_topic}/${c.device_id}`;
  return {
    task: deviceTopic(c.base_topic, c.device_id, 'task'),
    poolTask: poolTaskTopic(c.base_topic, c.pool),
    /** MQTT 5 shared subscription: the broker hands each pool task to one member. */
    poolShared: `$share/${c.pool}/${poolTaskTopic(c.base_topic, c.pool)}`,
    status: deviceTopic(c.base_topic, c.device_id, 'status'),
    metrics: deviceTopic(c.base_topic, c.device_id, 'metrics'),
    events: deviceTopic(c.base_topic, c.device_id, 'events'),
    requestFilter: `${device}/request/#`,
    requestPrefix: `${device}/request/`,
    response: (action: string) => `${device}/response/${action}`,
    /** Where the agent's OpenAI-compatible endpoint (issue 20) reads the replies to its tasks. */
    httpReplies: `${device}/http/replies`,
    /** Home Assistant's Ask entity: questions in (plain text), task results out (issue 20). */
    haAsk: haTopics(c.base_topic, c.device_id).ask,
    haAnswer: haTopics(c.base_topic, c.device_id).answer,
    /** A scheduled job's latest result, retained (issue 18). */
    jobResult: (job: string) => jobResultTopic(c.base_topic, c.device_id, job),
  };
}

export type Topics = ReturnType<typeof topics>;

/** The controller's API and what it listens to. */
export function controllerTopics(base: string) {
  return {
    requestPrefix: `${base}/controller/request/`,
    request: (action: string) => `${base}/controller/request/${action}`,
    responseFilter: `${base}/controller/response/#`,
    response: (action: string) => `${base}/controller/response/${action}`,
    deviceRequest: (device: string, action: string) => deviceRequestTopic(base, device, action),
    /** Every agent's retained status and metrics, and its events. */
    fleet: [`${base}/+/status`, `${base}/+/metrics`, `${base}/+/events`],
    /** Every agent's scheduled jobs' latest results (issue 18). */
    jobResults: `${base}/+/jobs/+/result`,
  };
}

/** `<base>/<device>/<kind>` for the three kinds the controller reads; anything else is not a device's. */
export function parseDeviceTopic(base: string, topic: string): { device: string; kind: 'status' | 'metrics' | 'events' } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== base || parts[1] === 'controller' || parts[1] === 'pool') return undefined;
  const kind = parts[2];
  return kind === 'status' || kind === 'metrics' || kind === 'events' ? { device: parts[1], kind } : undefined;
}

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
